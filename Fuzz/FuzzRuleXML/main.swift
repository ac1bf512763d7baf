// Rule files (`execwatch rules check`, `--rules`, rules.d): FortiSIEM rule XML with filters and
// aggregates; rules that load are run on an event, errors must name a position inside the file.
import ExecEvents
import FuzzSupport
import RuleEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let result = RuleLoader.load(documents: [(file: "fuzz.xml", bytes: input.array)])
    let lines = input.bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    for error in result.errors {
        fuzzCheck(error.line >= 1 && error.line <= lines, "error line \(error.line) of \(lines): \(error)")
        fuzzCheck(error.column >= 1, "error column \(error.column): \(error)")
        _ = error.description
    }
    guard !result.rules.isEmpty else { return 0 }
    var engine = DetectionEngine(rules: result.rules, configuration: EngineConfiguration(agentId: "fuzz"))
    var event = FuzzEvents.netcat
    for step in 0..<3 {
        event.eventTime = EventTime(millisecondsSinceEpoch: event.eventTime.millisecondsSinceEpoch + Int64(step) * 1000)
        for update in engine.process(event) { _ = update.incident.jsonLine }
    }
    return 0
}

FuzzDriver.run(testOneInput)
