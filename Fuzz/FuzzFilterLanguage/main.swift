// The filter language of `SingleEvtConstr` and the aggregates of `GroupEvtConstr`: parsed,
// rendered, re-parsed (the canonical form must read back to itself) and evaluated.
import ExecEvents
import FuzzSupport
import RuleEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    if let filter = try? FilterExpression(text) {
        _ = filter.matches(FuzzEvents.netcat)
        _ = filter.attributes
        let canonical = filter.description
        do {
            let again = try FilterExpression(canonical)
            fuzzCheck(again.description == canonical, "canonical form changes: \(canonical) -> \(again.description)")
            fuzzCheck(
                again.matches(FuzzEvents.netcat) == filter.matches(FuzzEvents.netcat),
                "canonical form matches differently: \(canonical)"
            )
        } catch {
            fuzzCheck(false, "canonical form \(canonical) of \(text) does not parse: \(error)")
        }
    }
    if let aggregate = try? AggregateExpression(text) {
        _ = aggregate.description
    }
    return 0
}

FuzzDriver.run(testOneInput)
