// Query strings of the collector's API and page (`GET /api/v1/incidents?…`, `GET /?…`: hostName,
// ruleId, since, limit, cursor) and the agent's `incidents --since`. A request that is accepted
// must write a query string that reads back to the same request.
import CollectorStorage
import ExecEvents
import FuzzSupport
import Journal

@testable import Collector

nonisolated(unsafe) let now = EventTime(millisecondsSinceEpoch: 1_795_860_000_123)

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    _ = QueryString.parse(text)
    if let request = try? IncidentListRequest(query: text, now: now) {
        _ = request.storeQuery
        if let since = request.sinceTime {
            fuzzCheck(EventTime.acceptedMilliseconds.contains(since.millisecondsSinceEpoch), "since \(since)")
        }
        let written = request.queryString(cursor: request.cursor)
        do {
            let again = try IncidentListRequest(query: written, now: now)
            fuzzCheck(again == request, "query \(written) reads back differently")
        } catch {
            fuzzCheck(false, "query \(written) written from \(text) is refused: \(error)")
        }
    }
    if let cursor = IncidentCursor(text: text) {
        fuzzCheck(IncidentCursor(text: cursor.description) == cursor, "cursor \(text) does not round-trip")
    }
    _ = try? EventTime(since: text, now: now)
    return 0
}

FuzzDriver.run(testOneInput)
