import ArgumentParser
import ExecEvents
import Journal

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch incidents`: what the local journal holds, newest first. Reads the journal
/// read-only, so it works while the agent runs.
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Print the incidents kept in the local journal, newest first.",
        discussion: """
            Reads <state-dir>/agent.db without changing it (while the agent runs, too). The state \
            directory is --state-dir, else $EXECWATCH_STATE_DIR, else \(defaultStateDirectory). Times are \
            event times, in UTC. On a terminal, SWPARAM is shortened to fit its width.
            """
    )

    static let defaultStateDirectory = "/var/lib/execwatch"

    @Option(help: "Only incidents seen since then: an age (30s, 15m, 1h, 2d) or an RFC 3339 time.")
    var since: String?

    @Option(name: .customLong("rule"), help: "Only incidents of this rule ID.")
    var ruleId: String?

    @Flag(help: "One incident JSON object per line, exactly as stored, instead of a table.")
    var json = false

    @Option(help: "The agent's state directory.")
    var stateDir: String?

    @Option(help: "At most this many incidents (the newest).")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, not \(limit)") }
        _ = try startTime()
    }

    func run() async throws {
        let sinceTime = try startTime()
        let directory = stateDir ?? environmentValue("EXECWATCH_STATE_DIR") ?? Self.defaultStateDirectory
        let incidents: [StoredIncident]
        do {
            let journal = try await IncidentJournal.open(stateDirectory: directory, mode: .readOnly)
            do {
                incidents = try await journal.incidents(since: sinceTime, ruleId: ruleId, limit: limit)
                try await journal.close()
            } catch {
                try? await journal.close()
                throw error
            }
        } catch JournalError.notFound(let path) {
            StandardError.write(
                "execwatch: no journal at \(path) (is the agent running with --state-dir \(directory)? "
                    + "--state-dir or EXECWATCH_STATE_DIR name another)\n"
            )
            throw ExitWithStatus(status: ExitStatus.failure)
        } catch {
            StandardError.write("execwatch: \(error)\n")
            throw ExitWithStatus(status: ExitStatus.failure)
        }

        let output = StandardOutput.shared
        if json {
            for incident in incidents { output.writeLine(incident.json) }
            return
        }
        if incidents.isEmpty {
            StandardError.write("execwatch: no incidents\n")
            return
        }
        let table = IncidentTable(incidents.map(IncidentTable.Row.init))
        for line in table.lines(width: outputWidth()) { output.writeLine(line) }
    }

    /// `--since` as a time; a bad value is a usage error naming it.
    private func startTime() throws -> EventTime? {
        guard let since else { return nil }
        do {
            return try EventTime(since: since, now: .now)
        } catch {
            throw ValidationError("--since: \(error)")
        }
    }
}

/// The table for people: LAST SEEN, RULE, HOST, USER, PROCNAME, SWPARAM, COUNT.
private struct IncidentTable {
    struct Row {
        var cells: [String]

        init(_ incident: StoredIncident) {
            let attributes = (try? JSONValue.parse(incident.json))?["attributes"]
            func attribute(_ name: String) -> String {
                switch attributes?[name] {
                case .string(let text): visible(text)
                case .integer(let number): String(number)
                default: "-"
                }
            }
            cells = [
                incident.lastSeen.rfc3339, visible(incident.ruleId), visible(incident.hostName), attribute("user"),
                attribute("procName"), attribute("swParam"), String(incident.count),
            ]
        }
    }

    static let headers = ["LAST SEEN", "RULE", "HOST", "USER", "PROCNAME", "SWPARAM", "COUNT"]
    /// The widest RULE, HOST, USER and PROCNAME may be; longer values are shortened.
    static let maximumWidths = [Int.max, 40, 32, 24, 24, Int.max, Int.max]
    static let swParamColumn = 5
    static let separator = "  "

    let rows: [Row]

    init(_ rows: [Row]) {
        self.rows = rows
    }

    /// The table's lines; when `width` is given, SWPARAM is shortened so that lines fit in it.
    func lines(width: Int?) -> [String] {
        var widths = Self.headers.map(\.count)
        for row in rows {
            for (column, cell) in row.cells.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        for column in widths.indices { widths[column] = min(widths[column], Self.maximumWidths[column]) }
        if let width {
            let others = widths.enumerated().filter { $0.offset != Self.swParamColumn }.map(\.element).reduce(0, +)
            let room = width - others - Self.separator.count * (widths.count - 1)
            widths[Self.swParamColumn] = max(
                Self.headers[Self.swParamColumn].count,
                min(widths[Self.swParamColumn], room)
            )
        }
        return ([Self.headers] + rows.map(\.cells)).map { cells in
            cells.enumerated().map { column, cell in
                let fitted = shortened(cell, to: widths[column])
                let padding = String(repeating: " ", count: widths[column] - fitted.count)
                if column == cells.count - 1 { return padding + fitted }  // COUNT, right-aligned
                return fitted + padding
            }.joined(separator: Self.separator)
        }
    }

    private func shortened(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        return String(text.prefix(max(0, width - 1))) + "…"
    }
}

/// Text as it may safely go to a terminal: control characters (which could move the cursor or
/// recolour the screen when an attacker chose the arguments) and bidirectional overrides are
/// shown as escapes.
private func visible(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0:
            let hex = String(scalar.value, radix: 16)
            result += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        case 0x202A...0x202E, 0x2066...0x2069:
            result += "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}

/// The terminal's width when standard output is one; else `$COLUMNS` when set; else nil (no limit).
private func outputWidth() -> Int? {
    var size = winsize()
    if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
        return Int(size.ws_col)
    }
    return environmentValue("COLUMNS").flatMap { Int($0) }
}

private func environmentValue(_ name: String) -> String? {
    guard let value = getenv(name), value.pointee != 0 else { return nil }
    return String(cString: value)
}
