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

    /// Incidents matching `query`, newest `lastSeen` first (ties: `incidentId` descending),
    /// at most `query.limit`, starting after `query.cursor`.
    func incidents(_ query: IncidentQuery) async throws -> IncidentPage

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
    public var cursor: IncidentCursor?

    public init(
        hostName: String? = nil,
        ruleId: String? = nil,
        since: EventTime? = nil,
        limit: Int = 100,
        cursor: IncidentCursor? = nil
    ) {
        self.hostName = hostName
        self.ruleId = ruleId
        self.since = since
        self.limit = limit
        self.cursor = cursor
    }
}

/// Where a page ended: the last incident's `lastSeen` and id. As text (for `cursor=`) it is
/// `<milliseconds>-<32 hex digits>`.
public struct IncidentCursor: Sendable, Equatable, CustomStringConvertible {
    public var lastSeen: EventTime
    public var incidentId: IncidentID

    public init(lastSeen: EventTime, incidentId: IncidentID) {
        self.lastSeen = lastSeen
        self.incidentId = incidentId
    }

    public init?(text: String) {
        guard let dash = text.firstIndex(of: "-"),
            let milliseconds = Int64(text[..<dash]),
            let lastSeen = EventTime(acceptedMilliseconds: milliseconds),
            let id = IncidentID(hex: String(text[text.index(after: dash)...]))
        else { return nil }
        self.init(lastSeen: lastSeen, incidentId: id)
    }

    public var description: String { "\(lastSeen.millisecondsSinceEpoch)-\(incidentId)" }
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
