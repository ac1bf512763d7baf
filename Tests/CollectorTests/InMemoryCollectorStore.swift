import CollectorStorage
import ExecEvents
import Logging
import RuleEngine

/// A ``CollectorStore`` in memory, for the few tests that need a store to misbehave or to count
/// its lookups and counts; the HTTP tests use the real SQLite store.
actor InMemoryCollectorStore: CollectorStore {
    struct Failure: Error {}

    private var stored: [IncidentID: CollectedIncident] = [:]
    private var credentialList: [Credential] = []
    private var upsertFailure: (any Error)?
    private(set) var tokenLookups = 0
    private(set) var nameLookups = 0
    private(set) var counts = 0

    /// Makes upserts throw `error` (`Failure()` by default) when `upserts`, else succeed.
    func setFailing(upserts: Bool, with error: any Error = Failure()) {
        upsertFailure = upserts ? error : nil
    }

    func upsert(_ incidents: [ReceivedIncident]) async throws -> [UpsertOutcome] {
        if let upsertFailure { throw upsertFailure }
        for (index, received) in incidents.enumerated() {
            if let existing = stored[received.incident.incidentId],
                existing.incident.hostName != received.incident.hostName
            {
                throw CollectorStoreError.foreignIncident(
                    index: index,
                    incidentId: received.incident.incidentId,
                    storedHostName: existing.incident.hostName
                )
            }
        }
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
            .sorted { Self.orderKey($0.incident, query.sort) > Self.orderKey($1.incident, query.sort) }
            .filter { collected in
                guard let cursor = query.cursor else { return true }
                return Self.orderKey(collected.incident, query.sort) < (
                    cursor.severity ?? 0, cursor.lastSeen, cursor.incidentId
                )
            }
        let page = Array(matching.prefix(query.limit))
        let next =
            matching.count > query.limit
            ? page.last.map { IncidentCursor(after: $0.incident, sort: query.sort) }
            : nil
        return IncidentPage(incidents: page, nextCursor: next)
    }

    private static func orderKey(_ incident: Incident, _ sort: IncidentSort) -> (Int, EventTime, IncidentID) {
        (sort == .severity ? incident.severity : 0, incident.lastSeen, incident.incidentId)
    }

    func incident(_ id: IncidentID) async throws -> CollectedIncident? { stored[id] }

    func incidentChart(_ query: IncidentChartQuery) async throws -> IncidentChart {
        IncidentChart(query: query, series: [])
    }

    func incidentCount() async throws -> Int {
        counts += 1
        return stored.count
    }

    func addCredential(_ credential: Credential) async throws {
        if let existing = credentialList.first(where: { $0.name == credential.name }) {
            throw CollectorStoreError.nameTaken(name: credential.name, by: existing.role)
        }
        credentialList.append(credential)
    }

    func credentials() async throws -> [Credential] { credentialList.sorted { $0.name < $1.name } }

    func revokeCredential(name: String, role: CredentialRole, at time: EventTime) async throws -> Bool {
        guard
            let index = credentialList.firstIndex(where: {
                $0.name == name && $0.role == role && $0.revokedAt == nil
            })
        else { return false }
        credentialList[index].revokedAt = time
        return true
    }

    func credential(tokenHash: String) async throws -> Credential? {
        tokenLookups += 1
        return credentialList.first { $0.tokenHash == tokenHash && $0.revokedAt == nil }
    }

    func credential(name: String) async throws -> Credential? {
        nameLookups += 1
        return credentialList.first { $0.name == name && $0.revokedAt == nil }
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
