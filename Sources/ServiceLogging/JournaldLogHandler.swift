import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Log lines on stderr as journald reads them: a `<N>` syslog priority prefix (so `journalctl -p`
/// filters work), then the message and `key=value` metadata on one line.
public struct JournaldLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let priority: Int
        switch event.level {
        case .critical: priority = 2
        case .error: priority = 3
        case .warning: priority = 4
        case .notice: priority = 5
        case .info: priority = 6
        case .debug, .trace: priority = 7
        }
        var line = "<\(priority)>\(label): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            let text = "\(value)"
            line += text.contains(where: { $0 == " " }) ? " \(key)=\"\(text)\"" : " \(key)=\(text)"
        }
        line += "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
