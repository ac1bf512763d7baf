import Logging
import Synchronization

/// Keeps every message logged through it, to test what was logged and how loudly.
public final class LogRecording: Sendable {
    public struct Entry: Sendable, Equatable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let recorded = Mutex<[Entry]>([])

    public init() {}

    public var entries: [Entry] { recorded.withLock { $0 } }

    public func messages(at level: Logger.Level) -> [String] {
        entries.filter { $0.level == level }.map(\.message)
    }

    fileprivate func append(_ entry: Entry) { recorded.withLock { $0.append(entry) } }

    /// A logger writing into this recording (every level, trace included).
    public func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(recording: self) }
    }
}

private struct RecordingLogHandler: LogHandler {
    let recording: LogRecording
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged: [String: String] = [:]
        for (key, value) in metadata { merged[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { merged[key] = "\(value)" }
        recording.append(.init(level: event.level, message: "\(event.message)", metadata: merged))
    }
}
