import Capture
import Testing

@testable import AuditCapture

#if canImport(Glibc)
import Glibc
#endif

extension LiveAuditTests {
    @Test("unicast: a failure halfway through setting up puts back everything done so far")
    func unicastSetupFailureRestores() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); the unicast test needs no audit daemon running")
            }
            // libaudit refuses keys over 256 bytes: registering, backlog and enabling are done by then.
            let source = AuditNetlinkSource(mode: .unicast, ruleKey: String(repeating: "k", count: 300))
            let error = #expect(throws: CaptureError.self) {
                try source.run(into: RecordingSink(), until: try StopSignal())
            }
            #expect(error?.operation.hasPrefix("add audit rule") == true, "\(String(describing: error))")
            guard case .failed = source.snapshot.phase else {
                Issue.record("phase is \(source.snapshot.phase)")
                return
            }
            #expect(source.snapshot.restoreProblems.isEmpty)
        }
    }

    @Test("multicast: refuses clearly when audit is disabled (no record would arrive)")
    func multicastRefusesWhenDisabled() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); this test needs no audit daemon running")
            }
            let link = try AuditLink()
            if before.enabled != 0 { try link.setEnabled(0) }
            defer { if before.enabled == 1 { try? link.setEnabled(1) } }
            let source = AuditNetlinkSource(mode: .multicast, ruleKey: Self.testKey())
            let error = #expect(throws: CaptureError.self) {
                try source.run(into: RecordingSink(), until: try StopSignal())
            }
            #expect(
                error?.description.contains("audit is disabled (enabled=0)") == true,
                "\(String(describing: error))"
            )
            #expect(source.snapshot.rulesAdded.isEmpty)
        }
    }

    @Test("restoring is idempotent: each change is undone once, a second restore does nothing")
    func restoringTwiceDoesNothingTheSecondTime() throws {
        try Self.withHostAudit { _ in
            let link = try AuditLink()
            let found = try link.status()
            let rule = AuditExecRule(architecture: .b64, key: Self.testKey())
            var changes = AuditStateChanges()
            changes.backlogLimitFound = found.backlogLimit
            try link.setBacklogLimit(found.backlogLimit + 1)
            try link.add(rule)
            changes.addedRules.append(rule)

            #expect(changes.restore(using: link).isEmpty)
            #expect(changes.isEmpty)
            #expect(try link.status().backlogLimit == found.backlogLimit)
            #expect(!(try link.rules().contains { $0.isExactly(rule) }))
            #expect(changes.restore(using: link).isEmpty)  // a second delete would fail with ENOENT
        }
    }
}
