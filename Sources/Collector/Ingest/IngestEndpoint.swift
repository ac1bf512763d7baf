import CollectorStorage
import ExecEvents
import Hummingbird
import Logging
import RuleEngine

/// `POST /api/v1/incidents`: checks the request's media type, encoding and size, reads and
/// validates every incident, checks that each is of the sending agent's own host, then stores the
/// batch in one transaction and says what happened to each incident.
///
/// An agent sends only incidents whose `hostName` is its registered name (its token's agent, or
/// its certificate's CN); any other is a 403 for the whole batch, as is an incident whose id the
/// store holds for another host. `agentId` is the sending installation's own identifier, not a
/// credential: it is stored as sent and never decides anything (a reinstalled agent gets a new one
/// and still updates its host's incidents).
struct IngestEndpoint: Sendable {
    let store: any CollectorStore
    let bodyReader: IngestBodyReader
    let decoder: IncidentBatchDecoder
    let metrics: CollectorMetrics
    let unknownFields = UnknownFieldLog()

    init(store: any CollectorStore, limits: CollectorConfiguration.Limits, metrics: CollectorMetrics) {
        self.store = store
        self.bodyReader = IngestBodyReader(maxBodyBytes: limits.maxBodyBytes)
        self.decoder = IncidentBatchDecoder(maxStringBytes: limits.maxStringBytes)
        self.metrics = metrics
    }

    func handle(
        _ request: Request,
        from client: AuthenticatedClient,
        context: CollectorRequestContext
    ) async throws -> Response {
        let incidents: [Incident]
        do {
            try IngestBodyReader.checkContentType(request.headers[.contentType])
            let encoding = try IngestBodyReader.encoding(of: request.headers[.contentEncoding])
            let body = try await bodyReader.read(request, encoding: encoding)
            let batch: IncidentBatch
            do {
                batch = try decoder.decode(body)
            } catch {
                throw APIError(.badRequest, error.reason)
            }
            if let foreign = Self.foreignIncident(in: batch.incidents, sentBy: client.name) { throw foreign }
            unknownFields.report(batch.unknownFields, from: client.name, logger: context.logger)
            incidents = batch.incidents
        } catch let error as APIError {
            metrics.bodyRejected(status: error.status.code)
            context.logger.info("ingest refused: \(error)", metadata: ["client": "\(client.name)"])
            throw error
        }
        let receivedAt = EventTime.now
        let outcomes: [UpsertOutcome]
        if incidents.isEmpty {
            outcomes = []
        } else {
            do {
                outcomes = try await store.upsert(
                    incidents.map { ReceivedIncident(incident: $0, receivedFrom: client.name, receivedAt: receivedAt) }
                )
            } catch CollectorStoreError.foreignIncident(let index, let id, let storedHostName) {
                // The reply does not say which host has the id.
                metrics.bodyRejected(status: 403)
                context.logger.warning(
                    "ingest refused: incident \(index): incidentId \(id) is stored for host \"\(storedHostName)\"",
                    metadata: ["client": "\(client.name)"]
                )
                throw APIError(.forbidden, "incident \(index): incidentId \(id) is another host's incident")
            } catch {
                metrics.storageFailed(error)
                let cause = StorageFailureCause(of: error).rawValue
                let wait = APIError.storageRetryAfterSeconds
                context.logger.error(
                    "cannot store incidents (\(cause); the agent is asked to retry after \(wait) s): \(error)",
                    metadata: ["client": "\(client.name)"]
                )
                throw APIError.storageUnavailable(error)
            }
        }
        metrics.incidentsStored(outcomes)
        context.logger.debug(
            "stored incidents",
            metadata: ["client": "\(client.name)", "count": "\(incidents.count)"]
        )
        return .json(IngestReply(incidents: incidents, outcomes: outcomes).json)
    }

    /// A 403 for the first incident whose `hostName` is not the agent's name; nil when all are its.
    static func foreignIncident(in incidents: [Incident], sentBy agent: String) -> APIError? {
        guard let index = incidents.firstIndex(where: { $0.hostName != agent }) else { return nil }
        let hostName = IncidentBatchDecoder.shortened(incidents[index].hostName)
        return APIError(
            .forbidden,
            "incident \(index): hostName \"\(hostName)\" is not this agent's host: agent \"\(agent)\" may only "
                + "send incidents whose hostName is \"\(agent)\""
        )
    }
}
