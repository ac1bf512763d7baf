import AuditCapture
import Capture
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveAuditTests {
    @Test("link: status as auditctl -s shows it; rules added, listed exactly, refused twice, deleted")
    func linkReadsStatusAndManagesRules() throws {
        try Self.withHostAudit { before in
            let link = try AuditLink()
            #expect(fcntl(link.descriptor, F_GETFD) & FD_CLOEXEC != 0, "programs the agent starts must not inherit it")
            let status = try link.status()
            #expect(String(status.enabled) == before.status["enabled"])
            #expect(String(status.pid) == before.status["pid"])
            #expect(String(status.backlogLimit) == before.status["backlog_limit"])
            #expect(String(status.backlogWaitTime) == before.status["backlog_wait_time"])

            let key = Self.testKey()
            let rules = AuditExecRule.agentRules(key: key)
            #expect(rules.map(\.architecture) == [.b64, .b32])
            var added: [AuditExecRule] = []
            defer { for rule in added { try? link.delete(rule) } }
            for rule in rules {
                try link.add(rule)
                added.append(rule)
            }
            let listed = try link.rules().filter { $0.keys == [key] }
            #expect(listed.count == 2)
            #expect(listed.first?.isExactly(rules[0]) == true)
            #expect(listed.first?.isExactly(rules[1]) == false)
            #expect(listed.last?.isExactly(rules[1]) == true)
            #expect(!listed.contains { $0.isExactly(AuditExecRule(architecture: .b64, key: key + "-other")) })
            let printed = try Command.output("/usr/sbin/auditctl", "-l")
            for rule in rules { #expect(printed.contains(rule.description), "auditctl -l: \(printed)") }
            #expect(AuditAvailability.probe(ruleKey: key).agentRulesLoaded)

            let duplicate = #expect(throws: CaptureError.self) { try link.add(rules[0]) }
            #expect(duplicate?.errno == EEXIST)
            for rule in rules { try link.delete(rule) }
            added = []
            let missing = #expect(throws: CaptureError.self) { try link.delete(rules[0]) }
            #expect(missing?.errno == ENOENT)
            #expect(try link.rules().allSatisfy { !$0.keys.contains(key) })
        }
    }

    @Test("availability: with no audit daemon registered, auto would become the audit daemon")
    func availabilityWithoutAuditDaemon() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); this test needs no audit daemon running")
            }
            let availability = AuditAvailability.probe()
            #expect(availability.openError == nil)
            #expect(availability.status != nil)
            #expect(availability.hasAuditControl)
            #expect(availability.hasAuditRead)
            #expect(availability.auditdParent == nil)
            #expect(availability.recommendation.source == .auditUnicast, "\(availability.recommendation.reason)")
            #expect(availability.recommendation.reason.contains("no audit daemon is registered"))
        }
    }
}
