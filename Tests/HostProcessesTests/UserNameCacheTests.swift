import HostProcesses
import Synchronization
import Testing

/// The uid → name cache in front of the user database.
@Suite struct UserNameCacheTests {
    @Test func eachUIDIsLookedUpOnceAndUnknownOnesAreNumbers() {
        let lookups = Atomic<Int>(0)
        var cache = UserNameCache(capacity: 8) { uid in
            lookups.add(1, ordering: .relaxed)
            return uid == 1000 ? "alice" : nil
        }
        #expect(cache.name(of: 1000) == "alice")
        #expect(cache.name(of: 1000) == "alice")
        #expect(cache.name(of: 4242) == "4242")
        #expect(cache.name(of: 4242) == "4242")
        #expect(lookups.load(ordering: .relaxed) == 2)
    }

    @Test func theCacheStaysBounded() {
        let lookups = Atomic<Int>(0)
        var cache = UserNameCache(capacity: 2) { _ in
            lookups.add(1, ordering: .relaxed)
            return "u"
        }
        for uid: UInt32 in 0..<10 { _ = cache.name(of: uid) }
        _ = cache.name(of: 9)  // still cached after the last reset
        #expect(lookups.load(ordering: .relaxed) == 10)
    }

    @Test func theHostsDatabaseKnowsRootAndNobody() {
        #expect(UserNameCache.hostDatabase(0) == "root")
        #expect(UserNameCache.hostDatabase(65534) == "nobody")
        #expect(UserNameCache.hostDatabase(3_999_999_999) == nil)
    }
}
