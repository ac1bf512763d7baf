// Incident JSON as the journal, the outbox and the collector read it: what is accepted must
// write JSON that reads back to an equal incident.
import ExecEvents
import FuzzSupport
import RuleEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    guard let incident = try? Incident(jsonText: text) else { return 0 }
    let line = incident.jsonLine
    do {
        let again = try Incident(jsonText: line)
        fuzzCheck(again == incident, "incident does not read back as written: \(line)")
    } catch {
        fuzzCheck(false, "incident writes JSON it cannot read (\(error)): \(line)")
    }
    return 0
}

FuzzDriver.run(testOneInput)
