// Datagrams from an audit netlink socket: split into messages, records reassembled and normalized
// as the netlink sources deliver them, and the kernel's status and rule-list replies decoded.
import AuditRecords
import ExecEvents
import FuzzSupport
import HostProcesses

@testable import AuditCapture

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    var assembler = AuditEventAssembler(graceMilliseconds: 2000, maximumPending: 64)
    var normalizer = ExecEventNormalizer(hostName: "fuzz", users: UserNameCache(names: [:]))
    let emit: (AuditEventAssembler.CompletedExec) -> Void = { completed in
        _ = normalizer.event(from: completed).jsonLine
    }
    NetlinkDatagram.forEachMessage(in: input.bytes) { message in
        fuzzCheck(
            message.payload.count <= input.bytes.count,
            "payload of \(message.payload.count) bytes in a datagram of \(input.bytes.count)"
        )
        if message.isDeliveredRecord {
            _ = assembler.ingest(type: message.type, payload: message.payload, emit)
        } else if message.type == NetlinkDatagram.typeError {
            _ = NetlinkDatagram.errorCode(of: message)
        } else {
            _ = AuditKernelStatus(bytes: message.payload)
            _ = AuditRuleListing(bytes: message.payload)
        }
    }
    assembler.finish(emit)
    return 0
}

FuzzDriver.run(testOneInput)
