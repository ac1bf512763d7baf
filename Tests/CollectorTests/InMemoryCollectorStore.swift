import CollectorStorage
import ExecEvents
import Logging
import RuleEngine

/// A ``CollectorStore`` in memory, for the few tests that need a store to misbehave or to count
/// its lookups; the HTTP tests use the real SQLite store.
actor InMemoryCollectorStore: CollectorStore {
    struct Failure: Error {}

    private var stored: [IncidentID: CollectedIncident] = [:]
    private var credentials: [AgentCredential] = []
    private var failUpserts = false
    private(set) var tokenLookups = 0

    func setFailing(upserts: Bool) {
        failUpserts = upserts
    }

    func upsert(_ incidents: [ReceivedIncident]) async throws -> [UpsertOutcome] {
        if failUpserts { throw Failure() }
        return incidents.map { received in
            let incident = received.incident
            let collected = CollectedIncident(
                incident: incident,
                receivedFrom: received.receivedFrom,
                receivedAt: received.receivedAt
            )
            guard let existing = stored[incident.incidentId] else {
                stored[incident.incidentId] = collected
                return .created
            }
            guard incident.version > existing.incident.version else { return .unchanged }
            stored[incident.incidentId] = collected
            return .updated
        }
    }

    func incidents(_ query: IncidentQuery) async throws -> IncidentPage {
        let matching = stored.values
            .filter { query.hostName == nil || $0.incident.hostName == query.hostName }
            .filter { query.ruleId == nil || $0.incident.ruleId == query.ruleId }
            .filter { collected in query.since.map { collected.incident.lastSeen >= $0 } ?? true }
            .sorted { ($0.incident.lastSeen, $0.incident.incidentId) > ($1.incident.lastSeen, $1.incident.incidentId) }
            .filter { collected in
                guard let cursor = query.cursor else { return true }
                return (collected.incident.lastSeen, collected.incident.incidentId) < (
                    cursor.lastSeen, cursor.incidentId
                )
            }
        let page = Array(matching.prefix(query.limit))
        let next =
            matching.count > query.limit
            ? page.last.map { IncidentCursor(lastSeen: $0.incident.lastSeen, incidentId: $0.incident.incidentId) }
            : nil
        return IncidentPage(incidents: page, nextCursor: next)
    }

    func incidentCount() async throws -> Int { stored.count }

    func addAgent(_ agent: AgentCredential) async throws {
        guard !credentials.contains(where: { $0.name == agent.name }) else {
            throw CollectorStoreError.agentExists(name: agent.name)
        }
        credentials.append(agent)
    }

    func agents() async throws -> [AgentCredential] { credentials.sorted { $0.name < $1.name } }

    func revokeAgent(name: String, at time: EventTime) async throws -> Bool {
        guard let index = credentials.firstIndex(where: { $0.name == name && $0.revokedAt == nil }) else {
            return false
        }
        credentials[index].revokedAt = time
        return true
    }

    func agent(tokenHash: String) async throws -> AgentCredential? {
        tokenLookups += 1
        return credentials.first { $0.tokenHash == tokenHash && $0.revokedAt == nil }
    }

    func close() async throws {}
}

extension Logger {
    /// A logger that says nothing (tests check replies and metrics, not log lines).
    static var quiet: Logger {
        var logger = Logger(label: "collector-tests")
        logger.logLevel = .critical
        return logger
    }
}
