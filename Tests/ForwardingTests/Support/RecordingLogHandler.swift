import Logging
import Synchronization

/// Keeps every message logged through it, to test what was logged and how loudly.
final class LogRecording: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let recorded = Mutex<[Entry]>([])

    var entries: [Entry] { recorded.withLock { $0 } }

    func messages(at level: Logger.Level) -> [String] {
        entries.filter { $0.level == level }.map(\.message)
    }

    fileprivate func append(_ entry: Entry) { recorded.withLock { $0.append(entry) } }

    /// A logger writing into this recording (every level, trace included).
    func logger(label: String = "forwarder-test") -> Logger {
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
        recording.append(.init(level: event.level, message: "\(event.message)"))
    }
}
