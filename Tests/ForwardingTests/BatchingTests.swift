import ExecEvents
import Journal
import Testing

@testable import Forwarding

@Suite("Batches: limits, collapsing versions, splitting")
struct BatchingTests {
    @Test func versionsOfOneIncidentCollapseToTheHighestButEverySeqIsKept() {
        let rows = [
            Sample.row(seq: 1, user: "alice", version: 1),
            Sample.row(seq: 2, user: "bob", version: 1),
            Sample.row(seq: 3, user: "alice", version: 2),
            Sample.row(seq: 4, user: "alice", version: 3),
        ]
        let batch = OutboxBatch(rows: rows)
        #expect(batch.items.count == 2)
        #expect(batch.sentEntries.map(\.seq) == [2, 4])
        #expect(batch.sentEntries.map(\.version) == [1, 3])
        #expect(batch.items.first { $0.entry.seq == 4 }?.seqs == [1, 3, 4])
        #expect(batch.seqs == [1, 2, 3, 4])
    }

    @Test func bodyIsTheRowsJSONJoinedWithCommasUnchanged() throws {
        let rows = [Sample.row(seq: 7, user: "alice"), Sample.row(seq: 9, user: "bob")]
        let body = String(decoding: OutboxBatch(rows: rows).jsonArray, as: UTF8.self)
        #expect(body == "[" + rows[0].json + "," + rows[1].json + "]")
        #expect(String(decoding: OutboxBatch(rows: []).jsonArray, as: UTF8.self) == "[]")
        guard case .array(let elements) = try JSONValue.parse(body) else {
            Issue.record("not an array")
            return
        }
        #expect(elements.count == 2)
    }

    @Test func assemblerStopsAtTheRowLimit() {
        var assembler = BatchAssembler(limits: BatchLimits(maximumRows: 3))
        #expect(assembler.add((1...2).map { Sample.row(seq: $0, user: "u\($0)") }) == 2)
        #expect(!assembler.isFull)
        #expect(assembler.remainingRows == 1)
        #expect(assembler.lastSeq == 2)
        #expect(assembler.add((3...5).map { Sample.row(seq: $0, user: "u\($0)") }) == 1)
        #expect(assembler.isFull)
        #expect(assembler.batch.seqs == [1, 2, 3])
    }

    @Test func assemblerStopsAtTheByteLimitButAlwaysTakesOneRow() {
        let big = (1...4).map { Sample.row(seq: $0, user: "u\($0)", jsonBytes: 1000) }
        var assembler = BatchAssembler(limits: BatchLimits(maximumRows: 100, maximumBytes: 2100))
        #expect(assembler.add(big) == 2)
        #expect(assembler.isFull)
        #expect(assembler.byteCount == OutboxBatch(rows: Array(big.prefix(2))).jsonArray.count)
        #expect(assembler.byteCount <= 2100)

        var tiny = BatchAssembler(limits: BatchLimits(maximumRows: 100, maximumBytes: 10))
        #expect(tiny.add(big) == 1)
        #expect(tiny.isFull)
        #expect(tiny.batch.seqs == [1])
    }

    @Test func defaultByteLimitIsFourMebibytes() {
        #expect(BatchLimits(maximumRows: 100).maximumBytes == 4 * 1024 * 1024)
        #expect(BatchLimits(maximumRows: 0).maximumRows == 1)
    }

    @Test func assemblerIgnoresRowsAlreadyTaken() {
        var assembler = BatchAssembler(limits: BatchLimits(maximumRows: 10))
        assembler.add([Sample.row(seq: 1, user: "a"), Sample.row(seq: 2, user: "b")])
        #expect(assembler.add([Sample.row(seq: 2, user: "b"), Sample.row(seq: 3, user: "c")]) == 1)
        #expect(assembler.batch.seqs == [1, 2, 3])
    }

    @Test func halvesSplitByIncidentUntilOneIsLeft() throws {
        let rows = [
            Sample.row(seq: 1, user: "a"), Sample.row(seq: 2, user: "b"), Sample.row(seq: 3, user: "b", version: 2),
            Sample.row(seq: 4, user: "c"),
        ]
        let batch = OutboxBatch(rows: rows)
        let (first, second) = try #require(batch.halves())
        #expect(first.seqs == [1])
        #expect(second.seqs == [2, 3, 4])
        #expect(second.items.count == 2)
        let (left, right) = try #require(second.halves())
        #expect(left.seqs == [2, 3])
        #expect(right.seqs == [4])
        #expect(left.halves() == nil)
    }
}
