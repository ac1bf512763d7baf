import CollectorStorage
import ExecEvents
import Hummingbird
import Logging
import RuleEngine

/// `POST /api/v1/incidents`: checks the request's media type, encoding and size, reads and
/// validates every incident, then stores the batch in one transaction and says what happened to
/// each incident.
struct IngestEndpoint: Sendable {
    let store: any CollectorStore
    let bodyReader: IngestBodyReader
    let decoder: IncidentBatchDecoder
    let metrics: CollectorMetrics

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
            do {
                incidents = try decoder.decode(body)
            } catch {
                throw APIError(.badRequest, error.reason)
            }
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
            } catch {
                context.logger.error("cannot store incidents: \(error)", metadata: ["client": "\(client.name)"])
                throw APIError.storageUnavailable
            }
        }
        metrics.incidentsStored(outcomes)
        context.logger.debug(
            "stored incidents",
            metadata: ["client": "\(client.name)", "count": "\(incidents.count)"]
        )
        return .json(IngestReply(incidents: incidents, outcomes: outcomes).json)
    }
}
