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
            event times, in UTC. On a terminal, SWPARAM is shortened to fit its width. With --rejected: \
            the incident changes the collector refused for good (kept, never deleted), most recently \
            refused first, with the collector's status and reason; --since then applies to when they \
            were refused (wall-clock time).
            """
    )

    static let defaultStateDirectory = "/var/lib/execwatch"

    @Option(help: "Only incidents seen since then: an age (30s, 15m, 1h, 2d) or an RFC 3339 time.")
    var since: String?

    @Option(name: .customLong("rule"), help: "Only incidents of this rule ID.")
    var ruleId: String?

    @Flag(help: "One incident JSON object per line, exactly as stored, instead of a table.")
    var json = false

    @Flag(help: "The incident changes the collector refused (the journal's dead letters) instead.")
    var rejected = false

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
        let listing: Listing
        if rejected {
            let deadLetters = try await reading { journal in
                try await journal.deadLetters(since: sinceTime, ruleId: ruleId, limit: limit)
            }
            listing = Listing(
                jsonLines: deadLetters.map(\.jsonLine),
                noneMessage: "no refused incidents",
                table: TerminalTable(
                    headers: ["REFUSED AT", "STATUS", "RULE", "INCIDENT", "VERSION", "REASON"],
                    maximumWidths: [Int.max, Int.max, 40, Int.max, Int.max, Int.max],
                    flexibleColumn: 5,
                    rightAlignedColumn: 4,
                    rows: deadLetters.map(Self.cells)
                )
            )
        } else {
            let incidents = try await reading { journal in
                try await journal.incidents(since: sinceTime, ruleId: ruleId, limit: limit)
            }
            listing = Listing(
                jsonLines: incidents.map(\.json),
                noneMessage: "no incidents",
                table: TerminalTable(
                    headers: ["LAST SEEN", "RULE", "HOST", "USER", "PROCNAME", "SWPARAM", "COUNT"],
                    maximumWidths: [Int.max, 40, 32, 24, 24, Int.max, Int.max],
                    flexibleColumn: 5,
                    rows: incidents.map(Self.cells)
                )
            )
        }
        let output = StandardOutput.shared
        if json {
            for line in listing.jsonLines { output.writeLine(line) }
        } else if listing.jsonLines.isEmpty {
            StandardError.write("execwatch: \(listing.noneMessage)\n")
        } else {
            for line in listing.table.lines(width: outputWidth()) { output.writeLine(line) }
        }
    }

    /// What is printed: JSON lines with `--json`, else the table (or a message when there is nothing).
    private struct Listing {
        var jsonLines: [String]
        var noneMessage: String
        var table: TerminalTable
    }

    /// Runs `body` on the journal opened read-only; a missing or unreadable journal is reported
    /// on standard error and ends the command with status 1.
    private func reading<T: Sendable>(_ body: @Sendable (IncidentJournal) async throws -> T) async throws -> T {
        let directory = stateDir ?? environmentValue("EXECWATCH_STATE_DIR") ?? Self.defaultStateDirectory
        do {
            let journal = try await IncidentJournal.open(stateDirectory: directory, mode: .readOnly)
            do {
                let result = try await body(journal)
                try await journal.close()
                return result
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
    }

    /// REFUSED AT, STATUS, RULE, INCIDENT, VERSION, REASON of a dead letter.
    private static func cells(_ deadLetter: DeadLetter) -> [String] {
        [
            deadLetter.refusedAt.rfc3339, String(deadLetter.status), visible(deadLetter.ruleId),
            deadLetter.incidentId.description, String(deadLetter.version), visible(deadLetter.reason),
        ]
    }

    /// LAST SEEN, RULE, HOST, USER, PROCNAME, SWPARAM, COUNT of an incident.
    private static func cells(_ incident: StoredIncident) -> [String] {
        let attributes = (try? JSONValue.parse(incident.json))?["attributes"]
        func attribute(_ name: String) -> String {
            switch attributes?[name] {
            case .string(let text): visible(text)
            case .integer(let number): String(number)
            default: "-"
            }
        }
        return [
            incident.lastSeen.rfc3339, visible(incident.ruleId), visible(incident.hostName), attribute("user"),
            attribute("procName"), attribute("swParam"), String(incident.count),
        ]
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

/// A table for people: columns as wide as their widest cell (up to a maximum each), the flexible
/// column shortened so that lines fit a terminal, the last column right-aligned.
private struct TerminalTable {
    static let separator = "  "

    let headers: [String]
    /// The widest each column may be; longer values are shortened.
    let maximumWidths: [Int]
    /// The column shortened to fit the terminal's width.
    let flexibleColumn: Int
    /// The column aligned to the right (a number; by default the last).
    let rightAlignedColumn: Int
    let rows: [[String]]

    init(
        headers: [String],
        maximumWidths: [Int],
        flexibleColumn: Int,
        rightAlignedColumn: Int? = nil,
        rows: [[String]]
    ) {
        self.headers = headers
        self.maximumWidths = maximumWidths
        self.flexibleColumn = flexibleColumn
        self.rightAlignedColumn = rightAlignedColumn ?? headers.count - 1
        self.rows = rows
    }

    /// The table's lines; when `width` is given, the flexible column is shortened so that lines
    /// fit in it.
    func lines(width: Int?) -> [String] {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        for column in widths.indices { widths[column] = min(widths[column], maximumWidths[column]) }
        if let width {
            let others = widths.enumerated().filter { $0.offset != flexibleColumn }.map(\.element).reduce(0, +)
            let room = width - others - Self.separator.count * (widths.count - 1)
            widths[flexibleColumn] = max(headers[flexibleColumn].count, min(widths[flexibleColumn], room))
        }
        return ([headers] + rows).map { cells in
            cells.enumerated().map { column, cell in
                let fitted = shortened(cell, to: widths[column])
                let padding = String(repeating: " ", count: widths[column] - fitted.count)
                if column == rightAlignedColumn { return padding + fitted }
                if column == cells.count - 1 { return fitted }
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
