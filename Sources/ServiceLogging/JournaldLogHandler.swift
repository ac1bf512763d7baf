import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Log lines on stderr as journald reads them: a `<N>` syslog priority prefix (so `journalctl -p`
/// filters work), then the message and `key=value` metadata on one line.
///
/// The program is named once: journald names it on every line already, so under journald a
/// logger labelled with the program's own name writes no label; elsewhere (a terminal, a file)
/// the label leads the message. Control characters in messages and metadata (an escape sequence
/// or a line break in a configured value or a file name) are written escaped, `\x1b`: a log line
/// is one line of plain text wherever it lands.
public struct JournaldLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let prefix: String

    public init(label: String) {
        self.prefix = Self.prefix(label: label, underJournald: StandardErrorStream.isJournal)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var bytes = Self.line(
            priority: Self.priority(of: event.level),
            prefix: prefix,
            message: "\(event.message)",
            metadata: merged
        )
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// The syslog priority of a level: `journalctl -p err` shows error and critical.
    static func priority(of level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// `"label: "`, or nothing when journald already names the program by that name.
    static func prefix(label: String, underJournald: Bool) -> String {
        underJournald && label == StandardErrorStream.programName ? "" : label + ": "
    }

    /// One log line: `<N>prefix message key=value …` and a line feed; control characters escaped.
    static func line(priority: Int, prefix: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var line: [UInt8] = Array("<\(priority)>".utf8)
        appendEscaped(prefix, to: &line)
        appendEscaped(message, to: &line)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            let text = "\(value)"
            line.append(UInt8(ascii: " "))
            appendEscaped(key, to: &line)
            line.append(UInt8(ascii: "="))
            let quoted = text.utf8.contains(UInt8(ascii: " "))
            if quoted { line.append(UInt8(ascii: "\"")) }
            appendEscaped(text, to: &line)
            if quoted { line.append(UInt8(ascii: "\"")) }
        }
        line.append(UInt8(ascii: "\n"))
        return line
    }

    private static func appendEscaped(_ text: String, to line: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7f {
                line.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)],
                ])
            } else {
                line.append(byte)
            }
        }
    }
}

/// What the process's standard error is connected to.
enum StandardErrorStream {
    /// True when stderr is journald's stream: systemd sets `JOURNAL_STREAM` to its `device:inode`
    /// (a child that inherits the variable but not the stream does not match).
    static let isJournal: Bool = {
        guard let value = getenv("JOURNAL_STREAM") else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return String(cString: value) == "\(info.st_dev):\(info.st_ino)"
    }()

    /// The program's file name, as journald names it (`SYSLOG_IDENTIFIER`).
    static let programName: String = {
        let path = CommandLine.arguments.first ?? ""
        return String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
    }()
}
