import Hummingbird

/// Counts and times every request by method, route (the matched path pattern, `NotFound` for
/// others, so that a scanner cannot create unbounded label values) and status.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: CollectorMetrics

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let method = Self.methodLabel(request.method)
        do {
            let response = try await next(request, context)
            metrics.requestAnswered(
                method: method,
                route: context.endpointPath ?? "NotFound",
                status: response.status.code,
                duration: ContinuousClock.now - start
            )
            return response
        } catch {
            metrics.requestAnswered(
                method: method,
                route: context.endpointPath ?? "NotFound",
                status: 500,
                duration: ContinuousClock.now - start
            )
            throw error
        }
    }

    /// The method, or `other` for methods this server has no route for.
    private static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .delete, .options, .patch: method.rawValue
        default: "other"
        }
    }
}
