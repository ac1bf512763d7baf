import CollectorStorage
import Synchronization

/// Looks tokens up in the store, remembering the agents of valid ones for a short while.
///
/// Only positive answers are cached, for ``cacheLifetime`` at most: a token revoked (by
/// `execwatch-collector agents revoke`, possibly in another process) stops working within that
/// time. Unknown tokens always reach the store.
final class TokenVerifier: Sendable {
    private struct CachedAgent {
        var name: String
        var expires: ContinuousClock.Instant
    }

    static let maximumCachedTokens = 10_000

    let cacheLifetime: Duration
    private let store: any CollectorStore
    private let cache = Mutex<[String: CachedAgent]>([:])

    init(store: any CollectorStore, cacheLifetime: Duration = .seconds(10)) {
        self.store = store
        self.cacheLifetime = cacheLifetime
    }

    /// The name of the agent the token belongs to; nil when it is unknown or revoked. Throws when
    /// the store cannot be asked.
    func agentName(forToken token: String) async throws -> String? {
        let hash = AgentToken.hash(token)
        let now = ContinuousClock.now
        let cached = cache.withLock { cache -> String? in
            guard let entry = cache[hash] else { return nil }
            if entry.expires > now { return entry.name }
            cache[hash] = nil
            return nil
        }
        if let cached { return cached }
        guard let agent = try await store.agent(tokenHash: hash) else { return nil }
        let expires = now.advanced(by: cacheLifetime)
        cache.withLock { cache in
            if cache.count >= Self.maximumCachedTokens { cache.removeAll(keepingCapacity: true) }
            cache[hash] = CachedAgent(name: agent.name, expires: expires)
        }
        return agent.name
    }
}
