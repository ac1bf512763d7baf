import CollectorStorage
import Hummingbird
import Logging

/// Applies the ``AccessPolicy`` to requests: finds the connection's verified client certificate
/// (only when client certificates are in use), reads `Authorization`, and checks tokens and
/// certificate names against the store's credentials and their roles.
struct Authenticator: Sendable {
    let policy: AccessPolicy
    let credentials: CredentialVerifier
    let metrics: CollectorMetrics

    /// The client, or an ``APIError``: 401 with `WWW-Authenticate` for missing or unknown
    /// credentials, 403 for a credential of the wrong role (an agent reading, a reader sending)
    /// or a token that is not the certificate's agent's, 503 when the store cannot be asked.
    func authenticate(
        _ request: Request,
        context: CollectorRequestContext,
        for kind: AccessKind
    ) async throws(APIError) -> AuthenticatedClient {
        guard policy.requiresAuthentication(kind) else { return .anonymous }
        let certificateName =
            policy.usesClientCertificates && kind == .ingest
            ? await ClientCertificate.verifiedCommonName(of: context.channel) : nil
        let credential = PresentedCredential(authorizationHeader: request.headers[.authorization])
        let decision = policy.decide(kind, certificateName: certificateName, credential: credential)
        return try await resolve(decision, for: kind, logger: context.logger)
    }

    /// Carries out a decision of the policy: looks up what it says must be checked.
    func resolve(
        _ decision: AccessDecision,
        for kind: AccessKind,
        logger: Logger
    ) async throws(APIError) -> AuthenticatedClient {
        switch decision {
        case .allow(let client):
            return client
        case .deny(let failure):
            throw refusal(failure, kind: kind, logger: logger)
        case .checkCertificate(let name):
            let agent = try await registeredAgent(named: name, logger: logger)
            return AuthenticatedClient(name: agent.name, method: .certificate)
        case .checkToken(let token, let certificateName):
            let owner: Credential?
            do {
                owner = try await credentials.credential(forToken: token)
            } catch {
                metrics.storageFailed(error)
                logger.error("cannot check a token: \(error)")
                throw APIError.storageUnavailable(error)
            }
            guard let owner else { throw refusal(.unknownToken, kind: kind, logger: logger) }
            guard owner.role == kind.role else { throw forbidden(owner, kind: kind, logger: logger) }
            guard let certificateName else { return AuthenticatedClient(name: owner.name, method: .token) }
            let agent = try await registeredAgent(named: certificateName, logger: logger)
            guard agent.name == owner.name else {
                logger.info(
                    "refused: the token and the client certificate name different agents",
                    metadata: ["token": "\(owner.name)", "certificate": "\(agent.name)"]
                )
                throw APIError(
                    .forbidden,
                    "the token is agent \"\(owner.name)\"'s, the client certificate names \"\(agent.name)\""
                )
            }
            return AuthenticatedClient(name: agent.name, method: .certificate)
        }
    }

    /// The registered, non-revoked agent a client certificate's CN names; 401 otherwise.
    private func registeredAgent(
        named name: String,
        logger: Logger
    ) async throws(APIError) -> Credential {
        let found: Credential?
        do {
            found = try await credentials.credential(named: name)
        } catch {
            metrics.storageFailed(error)
            logger.error("cannot look up a certificate's agent: \(error)")
            throw APIError.storageUnavailable(error)
        }
        guard let found, found.role == .agent else {
            throw refusal(.unknownCertificateName(name), kind: .ingest, logger: logger)
        }
        return found
    }

    private func forbidden(
        _ credential: Credential,
        kind: AccessKind,
        logger: Logger
    ) -> APIError {
        logger.info(
            "refused: a credential of the wrong role",
            metadata: ["name": "\(credential.name)", "role": "\(credential.role.rawValue)"]
        )
        switch kind {
        case .read:
            return APIError(
                .forbidden,
                "\"\(credential.name)\" is an agent; agents cannot read incidents: use a reader's token "
                    + "(execwatch-collector readers add NAME)"
            )
        case .ingest:
            return APIError(.forbidden, "\"\(credential.name)\" is a reader; readers cannot send incidents")
        }
    }

    private func refusal(
        _ failure: AuthenticationFailure,
        kind: AccessKind,
        logger: Logger
    ) -> APIError {
        metrics.authenticationFailed(reason: failure.metricReason)
        logger.info("authentication failed: \(failure)")
        let challenge =
            kind == .ingest
            ? "Bearer realm=\"execwatch-collector\""
            : "Basic realm=\"execwatch-collector\", charset=\"UTF-8\""
        return APIError(.unauthorized, failure.description, headers: [.wwwAuthenticate: challenge])
    }
}
