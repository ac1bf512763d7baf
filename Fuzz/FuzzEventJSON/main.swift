// Event JSON lines (`execwatch rules test --events FILE.jsonl`): each line parsed, read as an
// event, evaluated by the shipped rules; an accepted event must write a line that reads back to
// the same line.
import ExecEvents
import FuzzSupport
import RuleEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    var engine = DetectionEngine(rules: FuzzRules.shipped, configuration: EngineConfiguration(agentId: "fuzz"))
    for line in input.bytes.split(separator: 0x0A) {
        guard let json = try? JSONValue.parse(bytes: Array(line)),
            let event = try? ExecEvent(json: json, defaultHostName: "fuzz")
        else { continue }
        let written = event.jsonLine
        do {
            let again = try ExecEvent(json: try JSONValue.parse(written), defaultHostName: "fuzz")
            fuzzCheck(again.jsonLine == written, "event does not read back as written: \(written)")
        } catch {
            fuzzCheck(false, "event writes JSON it cannot read (\(error)): \(written)")
        }
        for update in engine.process(event) { _ = update.incident.jsonLine }
    }
    return 0
}

FuzzDriver.run(testOneInput)
