import ArgumentParser
import Collector
import CollectorStorage
import ExecEvents
import Logging
import RuleEngine

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch-collector incidents`: what the store holds, newest first.
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Print stored incidents, newest first.",
        discussion: """
            A table (LAST SEEN, RULE, HOST, USER, PROCNAME, SWPARAM, COUNT; times in UTC) by default; \
            with --json one incident JSON object per line, in the agents' format.
            """
    )

    @Flag(help: "One incident JSON object per line instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Only incidents of this host.", valueName: "name"))
    var host: String?

    @Option(help: ArgumentHelp("Only incidents of this rule ID.", valueName: "id"))
    var rule: String?

    @Option(help: "Only incidents seen since then: an age (30s, 15m, 1h, 2d) or an RFC 3339 time.")
    var since: String?

    @Option(help: "At most this many incidents (the newest).")
    var limit = 100

    @OptionGroup var options: ConfigurationOptions

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1, not \(limit)") }
        if let since, SinceTime.parse(since, now: .now) == nil {
            throw ValidationError("--since: expected \(SinceTime.expected), got \"\(since)\"")
        }
    }

    func run() async throws {
        var logger = Logger(label: "execwatch-collector")
        logger.logLevel = .warning
        var query = IncidentQuery(
            hostName: host,
            ruleId: rule,
            since: since.flatMap { SinceTime.parse($0, now: .now) },
            limit: min(limit, IncidentListRequest.maximumLimit)
        )
        let incidents = try await withStore(options, logger: logger) { store in
            var incidents: [CollectedIncident] = []
            do {
                while incidents.count < limit {
                    query.limit = min(limit - incidents.count, IncidentListRequest.maximumLimit)
                    let page = try await store.incidents(query)
                    incidents += page.incidents
                    guard let next = page.nextCursor, !page.incidents.isEmpty else { break }
                    query.cursor = next
                }
            } catch {
                throw CommandFailure.failure("cannot read incidents: \(error)")
            }
            return incidents
        }
        if json {
            for collected in incidents { print(collected.incident.jsonLine) }
            return
        }
        if incidents.isEmpty {
            StandardError.write("execwatch-collector: no incidents\n")
            return
        }
        let rows = incidents.map { collected -> [String] in
            let incident = collected.incident
            return [
                incident.lastSeen.rfc3339, TerminalText.visible(incident.ruleId),
                TerminalText.visible(incident.hostName),
                attribute("user", of: incident), attribute("procName", of: incident),
                attribute("swParam", of: incident), String(incident.count),
            ]
        }
        let table = TextTable(
            headers: ["LAST SEEN", "RULE", "HOST", "USER", "PROCNAME", "SWPARAM", "COUNT"],
            rows: rows,
            maximumWidths: [Int.max, 40, 32, 24, 24, Int.max, Int.max],
            flexibleColumn: 5,
            rightAlignedColumn: 6
        )
        for line in table.lines(width: TerminalText.outputWidth) { print(line) }
    }

    private func attribute(_ name: String, of incident: Incident) -> String {
        switch incident.attribute(name) {
        case .string(let text): TerminalText.visible(text)
        case .integer(let number): String(number)
        case nil: "-"
        }
    }
}
