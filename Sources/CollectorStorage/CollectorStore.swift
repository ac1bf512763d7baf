import ExecEvents
import RuleEngine

/// Where the collector keeps incidents and agent credentials: SQLite (the default, in its state
/// directory) or PostgreSQL (shared by several collectors). Both behave the same.
///
/// Every method is safe to call concurrently, also from several collector processes sharing one
/// PostgreSQL database: an incident is never stored twice, and the highest `version` wins.
public protocol CollectorStore: Sendable {
    /// Stores each incident unless the store already holds that `incidentId` with an equal or
    /// higher `version`; one outcome per incident, in order. All of a batch, or none of it, is
    /// stored (one transaction).
    ///
    /// A stored incident belongs to its `hostName`: an incident of the batch whose id the store
    /// holds with another `hostName` is never written, and the whole batch is refused with
    /// ``CollectorStoreError/foreignIncident(index:incidentId:storedHostName:)``.
    func upsert(_ incidents: [ReceivedIncident]) async throws -> [UpsertOutcome]

    /// Incidents matching `query` in the order of `query.sort` (by default newest `lastSeen`
    /// first; ties: `incidentId` descending), at most `query.limit`, starting after `query.cursor`.
    func incidents(_ query: IncidentQuery) async throws -> IncidentPage

    /// The stored incident with this id, or nil.
    func incident(_ id: IncidentID) async throws -> CollectedIncident?

    /// How many incidents were first seen in each bucket of `query`'s range, per rule or per
    /// host: counted by the database, so the work and the answer are bounded by the range's
    /// incidents and by `query.buckets × (query.maximumSeries + 1)`, whatever the store holds.
    func incidentChart(_ query: IncidentChartQuery) async throws -> IncidentChart

    /// How many incidents are stored.
    func incidentCount() async throws -> Int

    /// Adds a credential (an agent or a reader) with the hash of its token; throws
    /// ``CollectorStoreError/nameTaken(name:by:)`` if a credential (revoked or not) has that name.
    func addCredential(_ credential: Credential) async throws

    /// Every credential, revoked ones included, by name.
    func credentials() async throws -> [Credential]

    /// Marks the credential of that name and role revoked (its token, and for an agent its
    /// certificate, stop working at once); false if there is no such credential or it was revoked
    /// already.
    func revokeCredential(name: String, role: CredentialRole, at time: EventTime) async throws -> Bool

    /// The credential, not revoked, whose token has this hash.
    func credential(tokenHash: String) async throws -> Credential?

    /// The credential, not revoked, of this name: how a client certificate's CN is looked up.
    func credential(name: String) async throws -> Credential?

    func close() async throws
}

/// An incident as the collector received it.
public struct ReceivedIncident: Sendable, Equatable {
    public var incident: Incident
    /// Who sent it: the agent's name (token) or the client certificate's subject.
    public var receivedFrom: String
    public var receivedAt: EventTime

    public init(incident: Incident, receivedFrom: String, receivedAt: EventTime) {
        self.incident = incident
        self.receivedFrom = receivedFrom
        self.receivedAt = receivedAt
    }
}

/// What ``CollectorStore/upsert(_:)`` did with one incident.
public enum UpsertOutcome: String, Sendable, Equatable {
    /// The first time this incident was seen.
    case created
    /// A higher version replaced the stored one.
    case updated
    /// The store already had this version or a higher one (a retry or a duplicate).
    case unchanged
}

/// A filter on stored incidents; nil fields do not filter.
public struct IncidentQuery: Sendable, Equatable {
    public var hostName: String?
    public var ruleId: String?
    /// Only incidents whose `lastSeen` is at or after this time.
    public var since: EventTime?
    public var limit: Int
    /// Where the previous page of the same query and sort ended.
    public var cursor: IncidentCursor?
    public var sort: IncidentSort

    public init(
        hostName: String? = nil,
        ruleId: String? = nil,
        since: EventTime? = nil,
        limit: Int = 100,
        cursor: IncidentCursor? = nil,
        sort: IncidentSort = .lastSeen
    ) {
        self.hostName = hostName
        self.ruleId = ruleId
        self.since = since
        self.limit = limit
        self.cursor = cursor
        self.sort = sort
    }
}

/// The order of a listing; each ends with `incidentId` descending, so that pages never overlap.
public enum IncidentSort: String, Sendable, Equatable, CaseIterable {
    /// Newest `lastSeen` first.
    case lastSeen
    /// Highest `severity` first, then newest `lastSeen`.
    case severity
}

/// Where a page ended: the last incident's `lastSeen` and id, and its severity when the page was
/// sorted by severity. As text (for `cursor=`) it is `<milliseconds>-<32 hex digits>`, preceded
/// by `<severity>~` when sorted by severity.
public struct IncidentCursor: Sendable, Equatable, CustomStringConvertible {
    public var lastSeen: EventTime
    public var incidentId: IncidentID
    /// The last incident's severity: set exactly when the page was sorted by ``IncidentSort/severity``.
    public var severity: Int?

    public init(lastSeen: EventTime, incidentId: IncidentID, severity: Int? = nil) {
        self.lastSeen = lastSeen
        self.incidentId = incidentId
        self.severity = severity
    }

    /// Where `incident` ends a page sorted by `sort`.
    public init(after incident: Incident, sort: IncidentSort) {
        self.init(
            lastSeen: incident.lastSeen,
            incidentId: incident.incidentId,
            severity: sort == .severity ? incident.severity : nil
        )
    }

    public init?(text: String) {
        var rest = Substring(text)
        var severity: Int?
        if let tilde = rest.firstIndex(of: "~") {
            guard let number = Int(rest[..<tilde]) else { return nil }
            severity = number
            rest = rest[rest.index(after: tilde)...]
        }
        guard let dash = rest.firstIndex(of: "-"),
            let milliseconds = Int64(rest[..<dash]),
            let lastSeen = EventTime(acceptedMilliseconds: milliseconds),
            let id = IncidentID(hex: String(rest[rest.index(after: dash)...]))
        else { return nil }
        self.init(lastSeen: lastSeen, incidentId: id, severity: severity)
    }

    /// The sort this cursor continues.
    public var sort: IncidentSort { severity == nil ? .lastSeen : .severity }

    public var description: String {
        let position = "\(lastSeen.millisecondsSinceEpoch)-\(incidentId)"
        guard let severity else { return position }
        return "\(severity)~" + position
    }
}

/// What ``CollectorStore/incidentChart(_:)`` counts: the incidents first seen in
/// `[start, start + buckets × bucketMilliseconds)`, in `buckets` equal buckets, one series per
/// rule or per host (the `maximumSeries` with the most incidents; the rest summed as one).
public struct IncidentChartQuery: Sendable, Equatable {
    /// What a series is.
    public enum Series: String, Sendable, Equatable, CaseIterable {
        case rule
        case host
    }

    public var series: Series
    public var start: EventTime
    public var bucketMilliseconds: Int64
    public var buckets: Int
    public var maximumSeries: Int
    public var hostName: String?
    public var ruleId: String?

    public init(
        series: Series,
        start: EventTime,
        bucketMilliseconds: Int64,
        buckets: Int,
        maximumSeries: Int = 8,
        hostName: String? = nil,
        ruleId: String? = nil
    ) {
        self.series = series
        self.start = start
        self.bucketMilliseconds = max(1, bucketMilliseconds)
        self.buckets = max(1, buckets)
        self.maximumSeries = max(1, maximumSeries)
        self.hostName = hostName
        self.ruleId = ruleId
    }

    /// The end of the range (exclusive), in milliseconds since the epoch.
    public var endMilliseconds: Int64 {
        start.millisecondsSinceEpoch + bucketMilliseconds * Int64(buckets)
    }
}

/// Incidents per bucket of time, per series (see ``IncidentChartQuery``).
public struct IncidentChart: Sendable, Equatable {
    public var query: IncidentChartQuery
    /// The series with the most incidents first (ties: by key); the sum of the others last, with
    /// a nil key. Only series with incidents in the range.
    public var series: [IncidentChartSeries]

    public init(query: IncidentChartQuery, series: [IncidentChartSeries]) {
        self.query = query
        self.series = series
    }
}

/// One line of an ``IncidentChart``: a rule ID or host name (nil: all the others), and how many
/// incidents were first seen in each bucket.
public struct IncidentChartSeries: Sendable, Equatable {
    public var key: String?
    public var counts: [Int]

    public init(key: String?, counts: [Int]) {
        self.key = key
        self.counts = counts
    }

    public var total: Int { counts.reduce(0, +) }
}

/// One page of stored incidents.
public struct IncidentPage: Sendable, Equatable {
    public var incidents: [CollectedIncident]
    /// Where the next page starts; nil when this page is the last.
    public var nextCursor: IncidentCursor?

    public init(incidents: [CollectedIncident], nextCursor: IncidentCursor?) {
        self.incidents = incidents
        self.nextCursor = nextCursor
    }
}

/// A stored incident: its highest version, and who sent that version when.
public struct CollectedIncident: Sendable, Equatable {
    public var incident: Incident
    public var receivedFrom: String
    public var receivedAt: EventTime

    public init(incident: Incident, receivedFrom: String, receivedAt: EventTime) {
        self.incident = incident
        self.receivedFrom = receivedFrom
        self.receivedAt = receivedAt
    }
}

/// What a credential may do.
public enum CredentialRole: String, Sendable, Equatable, CaseIterable {
    /// Sends incidents of its own host (its name is the host's `hostName`); reads nothing.
    case agent
    /// Reads incidents (the web page and `GET /api/v1/incidents`); sends nothing.
    case reader
}

/// A client the collector knows: its name, what it may do, and the SHA-256 (hex) of its token.
/// The token itself is never stored. An agent may also authenticate with a client certificate
/// whose CN is its name.
public struct Credential: Sendable, Equatable {
    public var name: String
    public var role: CredentialRole
    public var tokenHash: String
    public var createdAt: EventTime
    public var revokedAt: EventTime?

    public init(
        name: String,
        role: CredentialRole,
        tokenHash: String,
        createdAt: EventTime,
        revokedAt: EventTime? = nil
    ) {
        self.name = name
        self.role = role
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A store that cannot do what was asked: which store, what, why.
public enum CollectorStoreError: Error, Equatable, CustomStringConvertible {
    /// A credential (revoked or not) has that name already; `by` is its role.
    case nameTaken(name: String, by: CredentialRole)
    /// Incident `index` of a batch has the id of an incident stored for another host.
    case foreignIncident(index: Int, incidentId: IncidentID, storedHostName: String)
    /// `storage.url` is neither a file path nor a `postgres://` URL, or cannot be opened.
    case unusableLocation(String, reason: String)
    /// The database failed; `operation` says what the store was doing, `cause` what kind of
    /// failure it was (a full disk and an unreachable server pass; the collector answers 503).
    case database(operation: String, reason: String, cause: StorageFailureCause = .other)
    /// A stored row cannot be read back.
    case unreadableRow(reason: String)

    /// What kind of failure this is, for the collector's reply and metrics.
    public var cause: StorageFailureCause {
        if case .database(_, _, let cause) = self { return cause }
        return .other
    }

    public var description: String {
        switch self {
        case .nameTaken(let name, let role):
            "\(role == .agent ? "an agent" : "a reader") named \"\(name)\" exists already"
        case .foreignIncident(let index, let id, let host):
            "incident \(index): incidentId \(id) is stored for another host (\"\(host)\")"
        case .unusableLocation(let location, let reason): "storage \(location): \(reason)"
        case .database(let operation, let reason, _): "cannot \(operation): \(reason)"
        case .unreadableRow(let reason): "a stored row cannot be read: \(reason)"
        }
    }
}

/// What kind of database failure stopped an operation: what an operator does about it differs.
public enum StorageFailureCause: String, Sendable, Equatable {
    /// No space left: SQLite's `SQLITE_FULL` (the disk of the database file), PostgreSQL's
    /// `disk_full` (SQLSTATE 53100).
    case full
    /// The PostgreSQL server cannot be reached, or its connection broke (stopped, restarted).
    case unreachable
    /// Anything else.
    case other
}

extension StorageFailureCause {
    /// The cause of any error a store threw (``CollectorStoreError/cause``; ``other`` for the rest).
    public init(of error: any Error) {
        self = (error as? CollectorStoreError)?.cause ?? .other
    }
}
