import AuditRecords
import Foundation
import Testing

@testable import AuditCapture

@Suite("netlink datagrams")
struct NetlinkDatagramTests {
    /// A netlink message: header (length as given), payload, padding to 4 bytes.
    static func message(type: UInt16, sequence: UInt32 = 0, payload: [UInt8], length: Int? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        append(UInt32(length ?? 16 + payload.count))
        append(type)
        append(UInt16(0))
        append(sequence)
        append(UInt32(0))
        bytes += payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func messages(in datagram: [UInt8]) -> [(type: UInt16, sequence: UInt32, payload: String)] {
        var found: [(UInt16, UInt32, String)] = []
        datagram.withUnsafeBytes { bytes in
            NetlinkDatagram.forEachMessage(in: bytes) { message in
                found.append((message.type, message.sequence, String(decoding: message.payload, as: UTF8.self)))
            }
        }
        return found
    }

    @Test("a unicast record (nlmsg_len = payload length, the kernel quirk) takes the whole datagram, NULs cut")
    func unicastRecordQuirk() {
        let text = Array("audit(1795931722.174:2): arch=c000003e syscall=59".utf8) + [0, 0]
        let datagram = Self.message(type: 1300, payload: text, length: text.count)
        let found = Self.messages(in: datagram)
        #expect(found.count == 1)
        #expect(found.first?.type == 1300)
        #expect(found.first?.payload == "audit(1795931722.174:2): arch=c000003e syscall=59")
    }

    @Test("a multicast record (true nlmsg_len) reads the same")
    func multicastRecord() {
        let datagram = Self.message(type: 1309, payload: Array("audit(1.2:3): argc=1 a0=\"nc\"".utf8) + [0])
        #expect(Self.messages(in: datagram).map(\.payload) == ["audit(1.2:3): argc=1 a0=\"nc\""])
    }

    @Test("control answers are split by their lengths; an error carries its errno")
    func controlMessages() {
        var error: [UInt8] = []
        withUnsafeBytes(of: Int32(-17).littleEndian) { error += $0 }
        error += [UInt8](repeating: 0, count: 16)
        let datagram =
            Self.message(type: 1013, sequence: 7, payload: [1, 2, 3, 4])
            + Self.message(type: NetlinkDatagram.typeError, sequence: 7, payload: error)
        let found = Self.messages(in: datagram)
        #expect(found.map(\.type) == [1013, NetlinkDatagram.typeError])
        #expect(found.map(\.sequence) == [7, 7])
        datagram.withUnsafeBytes { bytes in
            NetlinkDatagram.forEachMessage(in: bytes) { message in
                if message.type == NetlinkDatagram.typeError { #expect(NetlinkDatagram.errorCode(of: message) == 17) }
            }
        }
    }

    @Test("which types are records, and which are delivered")
    func recordTypes() {
        func message(_ type: UInt16) -> NetlinkMessage {
            NetlinkMessage(type: type, flags: 0, sequence: 0, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        #expect(message(1300).isDeliveredRecord)
        #expect(message(2999).isDeliveredRecord)
        #expect(message(1105).isAuditRecord && !message(1105).isDeliveredRecord)  // USER_START: a serial
        #expect(!message(1329).isAuditRecord)  // AUDIT_REPLACE probe
        #expect(!message(1000).isAuditRecord)  // AUDIT_GET answer
        #expect(!message(3000).isAuditRecord)
    }

    @Test("an NLMSG_ERROR carrying Int32.min is an error code, not a trap")
    func errorCodeOfInt32Min() {
        let datagram = Self.message(
            type: NetlinkDatagram.typeError,
            payload: [0, 0, 0, 0x80] + [UInt8](repeating: 0, count: 16)
        )
        var codes: [Int32] = []
        datagram.withUnsafeBytes { bytes in
            NetlinkDatagram.forEachMessage(in: bytes) { codes.append(NetlinkDatagram.errorCode(of: $0)) }
        }
        #expect(codes == [Int32.max])
    }

    /// Inputs the fuzzer found crashing (Tests/Fixtures/fuzz/FuzzAuditNetlink), through the path
    /// the FuzzAuditNetlink target takes.
    @Test("datagrams that crashed the fuzz target are read without a trap")
    func fuzzRegressions() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/FuzzAuditNetlink")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        #expect(!files.isEmpty)
        for file in files {
            let datagram = try [UInt8](Data(contentsOf: file))
            var assembler = AuditEventAssembler()
            var messages = 0
            datagram.withUnsafeBytes { bytes in
                NetlinkDatagram.forEachMessage(in: bytes) { message in
                    messages += 1
                    if message.isDeliveredRecord {
                        _ = assembler.ingest(type: message.type, payload: message.payload) { _ in }
                    } else if message.type == NetlinkDatagram.typeError {
                        #expect(NetlinkDatagram.errorCode(of: message) >= 0, "\(file.lastPathComponent)")
                    } else {
                        _ = AuditKernelStatus(bytes: message.payload)
                        _ = AuditRuleListing(bytes: message.payload)
                    }
                }
            }
            #expect(messages > 0, "\(file.lastPathComponent)")
        }
    }
}
