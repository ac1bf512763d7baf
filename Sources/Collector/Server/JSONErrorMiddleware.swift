import Hummingbird

/// Turns every error a route throws into a JSON reply `{"error":"<reason>"}`: ``APIError``s as
/// they are, Hummingbird's own (404 for unknown paths) with their status, anything else as a 500
/// that is logged.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            let reason = error.body ?? error.status.reasonPhrase.lowercased()
            return APIError(error.status, reason, headers: error.headers).response
        } catch {
            context.logger.error("request failed: \(error)", metadata: ["path": "\(request.uri.path)"])
            return APIError(.internalServerError, "internal error").response
        }
    }
}
