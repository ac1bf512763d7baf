// Audit log lines and the auditd plugin stream (`execwatch replay`, the audisp source): the input
// is a stream, cut into reads of varying size as a pipe delivers it, split into lines by the
// plugin source's line buffer, then reassembled, normalized, written as JSON and evaluated by the
// shipped rules.
import AuditRecords
import ExecEvents
import FuzzSupport
import HostProcesses
import RuleEngine

@testable import AuditCapture

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    var assembler = AuditEventAssembler(graceMilliseconds: 2000, maximumPending: 64)
    var normalizer = ExecEventNormalizer(hostName: "fuzz", users: UserNameCache(names: [0: "root", 1000: "alice"]))
    var engine = DetectionEngine(rules: FuzzRules.shipped, configuration: EngineConfiguration(agentId: "fuzz"))
    var lines = StreamLineBuffer(maximumLineLength: 4096, initialCapacity: 64)
    // The first byte picks the size of each read, so line ends fall anywhere in a read.
    let readSize = input.bytes.isEmpty ? 1 : Int(input.bytes[0] % 97) + 1
    var offset = 0
    let emit: (AuditEventAssembler.CompletedExec) -> Void = { completed in
        let event = normalizer.event(from: completed)
        _ = event.jsonLine
        _ = engine.process(event)
    }
    func take(_ line: UnsafeRawBufferPointer) {
        _ = assembler.ingest(line: line, emit)
    }
    while true {
        let read = lines.fill { free in
            let count = min(free.count, readSize, input.bytes.count - offset)
            guard count > 0 else { return 0 }
            free.copyMemory(from: UnsafeRawBufferPointer(rebasing: input.bytes[offset..<(offset + count)]))
            offset += count
            return count
        }
        if read <= 0 { break }
        lines.takeLines(take, overlong: { assembler.countMalformedLine() })
    }
    lines.finish(take)
    assembler.finish(emit)
    let statistics = assembler.statistics
    fuzzCheck(statistics.malformedRecords <= statistics.records, "more malformed records than records: \(statistics)")
    return 0
}

FuzzDriver.run(testOneInput)
