import CollectorStorage
import Hummingbird
import Logging

/// Applies the ``AccessPolicy`` to requests: finds the connection's verified client certificate
/// (only when client certificates are in use), reads `Authorization`, and checks tokens against
/// the store.
struct Authenticator: Sendable {
    let policy: AccessPolicy
    let tokens: TokenVerifier
    let metrics: CollectorMetrics

    /// The client, or an ``APIError`` (401 with `WWW-Authenticate`, or 503 when the store cannot
    /// check a token).
    func authenticate(
        _ request: Request,
        context: CollectorRequestContext,
        for kind: AccessKind
    ) async throws(APIError) -> AuthenticatedClient {
        guard policy.requiresAuthentication(kind) else { return .anonymous }
        let certificateName =
            policy.usesClientCertificates ? await ClientCertificate.verifiedCommonName(of: context.channel) : nil
        let credential = PresentedCredential(authorizationHeader: request.headers[.authorization])
        switch policy.decide(kind, certificateName: certificateName, credential: credential) {
        case .allow(let client):
            return client
        case .deny(let failure):
            throw refusal(failure, kind: kind, context: context)
        case .checkToken(let token, let certificateName):
            let agentName: String?
            do {
                agentName = try await tokens.agentName(forToken: token)
            } catch {
                context.logger.error("cannot check a token: \(error)")
                throw APIError.storageUnavailable
            }
            guard let agentName else { throw refusal(.unknownToken, kind: kind, context: context) }
            if let certificateName { return AuthenticatedClient(name: certificateName, method: .certificate) }
            return AuthenticatedClient(name: agentName, method: .token)
        }
    }

    private func refusal(
        _ failure: AuthenticationFailure,
        kind: AccessKind,
        context: CollectorRequestContext
    ) -> APIError {
        metrics.authenticationFailed(reason: failure.metricReason)
        context.logger.info("authentication failed: \(failure)")
        let challenge =
            kind == .ingest
            ? "Bearer realm=\"execwatch-collector\""
            : "Basic realm=\"execwatch-collector\", charset=\"UTF-8\""
        return APIError(.unauthorized, failure.description, headers: [.wwwAuthenticate: challenge])
    }
}
