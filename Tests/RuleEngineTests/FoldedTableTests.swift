import Testing

@testable import RuleEngine

/// The rule index's table looks ASCII keys up by their bytes; these tests compare it with a lookup
/// through Swift strings (folded keys in one dictionary, keys as given in another), as it was made.
@Suite struct FoldedTableTests {
    /// The lookup through strings (which compare by canonical equivalence): a key with ASCII
    /// upper-case letters first as given, then in lower case; any other key as it is.
    private func naiveSlot(_ keys: [String], _ key: String) -> Int? {
        var folded: [String: Int] = [:]
        var exact: [String: Int] = [:]
        for name in keys {
            let slot = folded[asciiLowercased(name)] ?? folded.count
            folded[asciiLowercased(name)] = slot
            exact[name] = slot
        }
        let hasUpperCase = key.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        if hasUpperCase, let slot = exact[key] { return slot }
        return folded[hasUpperCase ? asciiLowercased(key) : key]
    }

    private func table(_ keys: [String]) -> FoldedTable<Int> {
        var table = FoldedTable<Int>()
        for (k, key) in keys.enumerated() { table.update(key, default: k) { _ in } }
        return table
    }

    private static let names = [
        "nc", "NC", "Nc", "ncat", "nc.openbsd", "python3", "Python3.11", "bash", "sh", "a", "", "x/y",
        "café", "cafe\u{301}", "\u{212A}ill", "Kill", "kill", "sh ", " sh", "ß", "SS",
    ]

    @Test func lookupsAgreeWithTheStringLookupForEveryNameAndCase() {
        // Tables of ASCII names only (looked up by bytes) and with others (through strings).
        let tables = [
            Array(Self.names.prefix(12)), Self.names, ["nc"], ["Kill"], ["\u{212A}ill"], ["café"], ["a", "b", "c"],
        ]
        var queries = Self.names
        queries += Self.names.map { $0.uppercased() } + Self.names.map { $0.lowercased() }
        queries += ["n", "ncc", "bas", "pYTHON3", "/usr/bin/nc", "KILL"]
        for keys in tables {
            let table = table(keys)
            for query in queries {
                #expect(
                    table.slot(of: query) == naiveSlot(keys, query),
                    "\(keys): \(query) \(Array(query.utf8))"
                )
            }
        }
    }

    @Test func manyKeysAreAllFoundAndNothingElse() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcXYZ._-09".utf8)
        for count in [1, 2, 3, 7, 8, 9, 31, 100, 500] {
            var keys: [String] = []
            for _ in 0..<count {
                let length = Int.random(in: 0...12, using: &generator)
                keys.append(String(decoding: (0..<length).map { _ in alphabet.randomElement()! }, as: UTF8.self))
            }
            let table = table(keys)
            for key in keys + keys.map({ $0.uppercased() }) + ["zzz", "q", "abcabcabcabcabc"] {
                #expect(table.slot(of: key) == naiveSlot(keys, key), "\(count) keys: \(key)")
            }
        }
    }

    /// The hash table is filed again only when it would be more than half full, else one key is
    /// added: every key stays found after each insert, across the sizes where it grows.
    @Test func everyKeyIsFoundAfterEachInsert() {
        var table = FoldedTable<Int>()
        var keys: [String] = []
        for k in 0..<300 {
            let key = k % 7 == 3 ? "Name\(k)" : "name\(k)"
            keys.append(key)
            table.update(key, default: k) { _ in }
            // A key given again in another case is the same key: no new slot.
            if k % 11 == 0 { table.update(key.uppercased(), default: -1) { _ in } }
            // Every key around the sizes where the table grows (4, 8, 16, … keys), else the new one.
            let count = keys.count
            let aroundGrowth = (count & (count - 1)) == 0 || ((count - 1) & (count - 2)) == 0
            for known in aroundGrowth ? keys : [key] {
                #expect(table.slot(of: known) == naiveSlot(keys, known), "after \(count) keys: \(known)")
            }
            #expect(table.slot(of: "absent\(k)") == nil)
        }
    }

    @Test func lastComponentsAreLookedUpAsTheirText() {
        let keys = ["nc", "nc.openbsd", "bash", "Kill", ""]
        let table = table(keys)
        let paths = [
            "/usr/bin/nc", "/usr/bin/NC", "nc", "/bin/", "/", "", "usr/bin/bash", "/x/\u{212A}ill", "/a/b/nc.openbsd",
            "/a/b/nc.openbsdx", "//nc", "/ncat/sh",
        ]
        for path in paths {
            let name = RuleIndex.EventKeys.lastComponent(path)
            #expect(table.slot(ofLastComponentOf: path) == naiveSlot(keys, name), "\(path)")
        }
    }
}
