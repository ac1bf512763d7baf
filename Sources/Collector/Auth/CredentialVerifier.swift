import CollectorStorage
import Synchronization

/// Looks tokens and client certificate names up in the store, remembering the credentials found
/// for a short while.
///
/// Only positive answers are cached, for ``cacheLifetime`` at most: a credential revoked (by
/// `execwatch-collector agents revoke` or `readers revoke`, possibly in another process) stops
/// working within that time, whether it is used by token or by certificate. Unknown tokens and
/// names always reach the store.
final class CredentialVerifier: Sendable {
    private enum Key: Hashable {
        case tokenHash(String)
        case name(String)
    }

    private struct CachedCredential {
        var credential: Credential
        var expires: ContinuousClock.Instant
    }

    static let maximumCachedCredentials = 10_000

    let cacheLifetime: Duration
    private let store: any CollectorStore
    private let cache = Mutex<[Key: CachedCredential]>([:])

    init(store: any CollectorStore, cacheLifetime: Duration = .seconds(10)) {
        self.store = store
        self.cacheLifetime = cacheLifetime
    }

    /// The credential the token belongs to; nil when it is unknown or revoked. Throws when the
    /// store cannot be asked.
    func credential(forToken token: String) async throws -> Credential? {
        let hash = CredentialToken.hash(token)
        return try await lookUp(.tokenHash(hash)) { try await $0.credential(tokenHash: hash) }
    }

    /// The credential of this name (a client certificate's CN); nil when there is none or it was
    /// revoked. Throws when the store cannot be asked.
    func credential(named name: String) async throws -> Credential? {
        try await lookUp(.name(name)) { try await $0.credential(name: name) }
    }

    private func lookUp(
        _ key: Key,
        in fetch: (any CollectorStore) async throws -> Credential?
    ) async throws -> Credential? {
        let now = ContinuousClock.now
        let cached = cache.withLock { cache -> Credential? in
            guard let entry = cache[key] else { return nil }
            if entry.expires > now { return entry.credential }
            cache[key] = nil
            return nil
        }
        if let cached { return cached }
        guard let credential = try await fetch(store) else { return nil }
        let expires = now.advanced(by: cacheLifetime)
        cache.withLock { cache in
            if cache.count >= Self.maximumCachedCredentials { cache.removeAll(keepingCapacity: true) }
            cache[key] = CachedCredential(credential: credential, expires: expires)
        }
        return credential
    }
}
