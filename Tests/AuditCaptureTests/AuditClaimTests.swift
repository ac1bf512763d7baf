import Capture
import Synchronization
import Testing

@testable import AuditCapture

#if canImport(Glibc)
import Glibc
#endif

/// When another program (auditd) asks to become the audit daemon while the agent is it, the
/// kernel refuses it and sends the agent AUDIT_REPLACE with that program's pid: the agent counts
/// it and says who, and the message is not taken for a record.
@Suite("Another program claiming audit")
struct AuditClaimTests {
    @Test func auditReplaceIsCountedAndReportedWithThePidNotDeliveredAsARecord() throws {
        let sink = RecordingSink()
        let counters = CaptureCounters()
        let said = Mutex<[String]>([])
        let delivery = AuditRecordDelivery(
            sink: sink,
            counters: counters,
            claimed: { text in
                said.withLock { $0.append(text) }
            }
        )
        func replace(claimant: Int32) {
            var pid: [UInt8] = []
            withUnsafeBytes(of: claimant.littleEndian) { pid += $0 }
            let datagram = NetlinkDatagramTests.message(type: NetlinkDatagram.typeAuditReplace, payload: pid)
            datagram.withUnsafeBytes { bytes in NetlinkDatagram.forEachMessage(in: bytes, delivery.deliver) }
        }
        replace(claimant: getpid())  // the agent's own request (unregistering on stop): not a claim
        #expect(counters.auditClaimsRefused.current == 0)
        replace(claimant: 1)

        #expect(counters.auditClaimsRefused.current == 1)
        #expect(counters.delivered.current == 0)
        #expect(sink.records == 0)
        #expect(counters.sequenceGaps.current == 0)
        let text = try #require(said.withLock { $0 }.first)
        let name = try #require(LinuxProcess.commandName(of: 1))
        #expect(text.hasPrefix("pid 1 (\(name)) asked to become the audit daemon; the kernel refused it"))
        #expect(text.contains("--source audisp") && text.contains("--source audit-multicast"))
    }
}
