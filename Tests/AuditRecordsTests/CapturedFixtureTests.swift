import ExecEvents
import Foundation
import Testing

@testable import AuditRecords

/// A log captured from this kind of machine's kernel under auditd by
/// `scripts/capture-audit-fixture.sh`. The expected lines were written by the workload itself,
/// just before each exec (procName, user, argv in hex), not by this project's code.
@Suite("Records captured from a real kernel")
struct CapturedFixtureTests {
    struct Expected: Hashable {
        var procName: String
        var user: String
        var argv: [[UInt8]]
    }

    static func expectations() throws -> [Expected] {
        let text = try String(
            contentsOf: TestPaths.fixtures.appendingPathComponent("captured-debian12.expected.tsv"),
            encoding: .utf8
        )
        return try text.split(separator: "\n").map { line in
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == 3 else { throw ConformanceError.badEscape(String(line)) }
            let argv = columns[2].split(separator: ",", omittingEmptySubsequences: false).map { hex in
                Array(hex.utf8).withUnsafeBytes { decodeHex($0) } ?? []
            }
            return Expected(procName: String(columns[0]), user: String(columns[1]), argv: argv)
        }
    }

    @Test func everyWorkloadExecIsDecodedExactly() throws {
        let expected = try Self.expectations()
        #expect(expected.count >= 40)
        let result = try replay(file: TestPaths.fixtures.appendingPathComponent("captured-debian12.log"))
        #expect(result.statistics.malformedRecords == 0)
        #expect(result.statistics.failedExecs > 0)  // the workload's PATH-search misses
        let decoded = Set(
            result.events.map {
                Expected(procName: $0.procName ?? "", user: $0.user ?? "", argv: $0.args.map(Array.init) ?? [])
            }
        )
        for item in expected {
            let found = decoded.contains(item)
            #expect(found, "not decoded: \(item.procName) \(item.user) \(item.argv.prefix(3).map(\.text))")
        }
    }

    @Test func netcatRunsHaveTheAttributesTheRuleGroupsBy() throws {
        let result = try replay(file: TestPaths.fixtures.appendingPathComponent("captured-debian12.log"))
        let netcats = result.events.filter {
            ["nc", "ncat", "netcat", "nc.openbsd", "nc.traditional"].contains($0.procName ?? "")
        }
        #expect(netcats.count >= 8)
        let nc = try #require(netcats.first { $0.procName == "nc" && $0.swParam == "-h" })
        #expect(nc.exePath == "/usr/bin/nc.openbsd")
        #expect(nc.user == "root")
        #expect(netcats.contains { $0.user == "ewfixture" })
    }

    @Test func decodingNeverDependsOnThisHostsUserDatabase() throws {
        // The fixture is ENRICHED: names come from the recording host's translations.
        let result = try replay(file: TestPaths.fixtures.appendingPathComponent("captured-debian12.log"), users: [:])
        #expect(result.events.contains { $0.user == "ewfixture" })
    }
}
