import CollectorStorage
import ExecEvents
import Hummingbird
import Logging
import RuleEngine

/// The collector's routes:
///
/// - `POST /api/v1/incidents`: agents send incidents (``IngestEndpoint``).
/// - `GET /api/v1/incidents`: incidents as JSON, newest first, filtered and paged (readers).
/// - `GET /`: the same as a web page, with charts of new incidents by rule and by host (readers).
/// - `GET /incidents/<id>`: the page of one incident with its trigger events (readers).
/// - `GET /healthz`: `ok` when the store answers, else 503 saying why (full, unreachable).
/// - `GET /metrics`: Prometheus metrics, without authentication (the store is counted at most
///   once a minute, whatever the scrape rate).
///
/// Every error reply is `{"error":"<reason>"}`.
public enum CollectorRouter {
    public static func make(
        configuration: CollectorConfiguration,
        store: any CollectorStore,
        metrics: CollectorMetrics
    ) -> Router<CollectorRequestContext> {
        let router = Router(context: CollectorRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware())

        let authenticator = Authenticator(
            policy: AccessPolicy(clientAuth: configuration.tls.clientAuth, webAuth: configuration.webAuth),
            credentials: CredentialVerifier(store: store),
            metrics: metrics
        )
        let ingest = IngestEndpoint(store: store, limits: configuration.limits, metrics: metrics)

        router.post("/api/v1/incidents") { request, context in
            let client = try await authenticator.authenticate(request, context: context, for: .ingest)
            return try await ingest.handle(request, from: client, context: context)
        }
        router.get("/api/v1/incidents") { request, context in
            _ = try await authenticator.authenticate(request, context: context, for: .read)
            let (_, page) = try await incidents(for: request, from: store, metrics: metrics, context: context)
            return Response.json(IncidentListJSON.render(page))
        }
        router.get("/") { request, context in
            _ = try await authenticator.authenticate(request, context: context, for: .read)
            let (listRequest, page) = try await incidents(
                for: request,
                from: store,
                metrics: metrics,
                context: context
            )
            let (byRule, byHost) = IncidentPageHTML.chartQueries(for: listRequest, now: .now)
            let charts = try await reading(from: store, metrics: metrics, context: context, doing: "chart incidents") {
                IncidentPageHTML.Charts(
                    byRule: try await store.incidentChart(byRule),
                    byHost: try await store.incidentChart(byHost)
                )
            }
            return Response.html(IncidentPageHTML.render(page, charts: charts, request: listRequest))
        }
        router.get("/incidents/:id") { request, context in
            _ = try await authenticator.authenticate(request, context: context, for: .read)
            let text = context.parameters.get("id") ?? ""
            guard let id = IncidentID(hex: text) else {
                throw APIError(.badRequest, "incident id \"\(text.prefix(100))\": expected 32 hex digits")
            }
            let found = try await reading(from: store, metrics: metrics, context: context, doing: "read incident") {
                try await store.incident(id)
            }
            guard let found else { throw APIError(.notFound, "no incident \(id)") }
            return Response.html(IncidentDetailHTML.render(found))
        }
        router.get("/healthz") { _, context in
            do {
                _ = try await store.incidents(IncidentQuery(limit: 1))
            } catch {
                metrics.storageFailed(error)
                context.logger.error("health check: the store does not answer: \(error)")
                throw APIError.storageUnavailable(error)
            }
            metrics.storageAnswered()
            return Response.text("ok\n")
        }
        router.get("/metrics") { _, context in
            await metrics.updateStoredIncidents(from: store, logger: context.logger)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
        return router
    }

    /// The page of incidents a listing request asks for; 400 for a bad parameter, 503 when the
    /// store fails.
    private static func incidents(
        for request: Request,
        from store: any CollectorStore,
        metrics: CollectorMetrics,
        context: CollectorRequestContext
    ) async throws(APIError) -> (IncidentListRequest, IncidentPage) {
        let listRequest: IncidentListRequest
        do {
            listRequest = try IncidentListRequest(query: request.uri.query, now: .now)
        } catch {
            throw APIError(.badRequest, error.reason)
        }
        let page = try await reading(from: store, metrics: metrics, context: context, doing: "read incidents") {
            try await store.incidents(listRequest.storeQuery)
        }
        return (listRequest, page)
    }

    /// What `read` returns; 503 (counted and logged) when the store fails.
    private static func reading<T>(
        from store: any CollectorStore,
        metrics: CollectorMetrics,
        context: CollectorRequestContext,
        doing operation: String,
        _ read: () async throws -> T
    ) async throws(APIError) -> T {
        do {
            let value = try await read()
            metrics.storageAnswered()
            return value
        } catch {
            metrics.storageFailed(error)
            context.logger.error("cannot \(operation): \(error)")
            throw APIError.storageUnavailable(error)
        }
    }
}
