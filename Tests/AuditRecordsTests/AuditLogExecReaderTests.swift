import ExecEvents
import Foundation
import Testing

@testable import AuditRecords

@Suite("Reading an audit log into batches of completed execs")
struct AuditLogExecReaderTests {
    static let fixture = TestPaths.fixtures.appendingPathComponent("captured-debian12.log")

    /// The fixture with malformed and blank lines between its records, written to a temporary file.
    static func damagedFixture() throws -> (file: URL, malformedLines: [Int]) {
        let lines = try String(contentsOf: fixture, encoding: .utf8).split(
            separator: "\n",
            omittingEmptySubsequences: false
        )
        var damaged: [Substring] = []
        var malformed: [Int] = []
        for (index, line) in lines.enumerated() {
            if index % 97 == 5 {
                damaged.append("garbage \(index)")
                malformed.append(damaged.count)
                damaged.append("")
            }
            damaged.append(line)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "exec-reader-\(getpid())-\(UUID()).log"
        )
        try damaged.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return (file, malformed)
    }

    @Test func batchesCarryTheExecsAndMalformedLinesInInputOrder() throws {
        let (file, malformedLines) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(at: file) }
        let text = try String(contentsOf: file, encoding: .utf8)
        let expected = replay(text: text)
        #expect(expected.events.count > 50 && malformedLines.count > 5)

        var reader = AuditLogExecReader(lines: try LineReader(path: file.path), graceMilliseconds: 2000, batchSize: 7)
        var serials: [UInt64] = []
        var malformed: [Int] = []
        var offsets: [Int] = []
        var ends = 0
        var statistics = AuditStatistics()
        reader.read { batch in
            #expect(batch.items.count <= 7)
            #expect(ends == 0, "nothing after the last batch")
            for item in batch.items {
                switch item {
                case .exec(let completed): serials.append(completed.serial)
                case .malformedLine(let number, let reason):
                    malformed.append(number)
                    #expect(reason != nil)
                }
            }
            offsets.append(batch.inputOffset)
            if let end = batch.end {
                ends += 1
                statistics = end.statistics
                #expect(end.failure == nil)
            }
            return .busy
        }
        #expect(serials == expected.serials)
        #expect(malformed == malformedLines)
        #expect(expected.malformed.map(\.0) == malformedLines)
        #expect(statistics == expected.statistics)
        #expect(ends == 1)
        // The input offsets only grow, and the last is the whole file: a receiver's progress.
        #expect(offsets == offsets.sorted())
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        #expect(offsets.last == size)
    }

    @Test func workDoneAheadChangesNoEvent() throws {
        let plain = try replay(file: Self.fixture)
        for work in [AuditLogExecReader.WorkAhead.identity, .context, .arguments] {
            let ahead = try replay(file: Self.fixture, batchSize: 5, workAhead: work)
            #expect(ahead.events == plain.events, "\(work)")
            #expect(ahead.malformedFields == plain.malformedFields)
            #expect(ahead.statistics == plain.statistics)
        }
    }

    /// Replay's main thread prefetches execs ahead of the one it derives: any index (past the
    /// end, before the start, a malformed line's), records borrowed from the mapping or copied.
    @Test func prefetchingExecsAheadChangesNoEvent() throws {
        let (file, _) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(at: file) }
        let plain = try replay(file: file)
        var reader = AuditLogExecReader(lines: try LineReader(path: file.path), graceMilliseconds: 2000, batchSize: 7)
        var normalizer = ExecEventNormalizer(hostName: "test-host", users: fixedUsers([:]))
        var events: [ExecEvent] = []
        var prefetchedMalformedLine = false
        reader.read { batch in
            for index in -2..<(batch.items.count + 3) { batch.prefetchForDeriving(at: index) }
            for (index, item) in batch.items.enumerated() {
                batch.prefetchForDeriving(at: index)
                switch item {
                case .exec(let completed): events.append(normalizer.event(from: completed))
                case .malformedLine: prefetchedMalformedLine = true
                }
            }
            return .busy
        }
        #expect(prefetchedMalformedLine)
        #expect(events == plain.events)

        // Copied records (a pipe's lines are not kept): their addresses are where their bytes are.
        let text = try String(contentsOf: Self.fixture, encoding: .utf8)
        var assembler = AuditEventAssembler(graceMilliseconds: 2000)
        var copied: [ExecEvent] = []
        var execs = 0
        let emit: (AuditEventAssembler.CompletedExec) -> Void = { completed in
            var targets: [UnsafeRawPointer?] = []
            completed.exec.appendPrefetchTargets(to: &targets)
            #expect(targets.count == PrefetchTargets.perItem)
            #expect(targets[0] == UnsafeRawPointer(Unmanaged.passUnretained(completed.exec).toOpaque()))
            #expect(targets[1] != nil, "every exec of the fixture has its SYSCALL record")
            targets.withUnsafeBufferPointer { PrefetchTargets.prefetch($0[...]) }
            copied.append(normalizer.event(from: completed))
            execs += 1
        }
        for line in text.split(separator: "\n") {
            _ = Array(line.utf8).withUnsafeBytes { assembler.ingest(line: $0, emit) }
        }
        assembler.finish(emit)
        #expect(execs > 50)
        #expect(copied == replay(text: text).events)
    }

    /// A most work-ahead decided while reading (replay's rules load meanwhile): asked whenever
    /// the receiver is behind, it stands in for `workAhead`; raised mid-read, no event changes.
    @Test func aMostWorkAheadRaisedWhileReadingChangesNoEvent() throws {
        let plain = try replay(file: Self.fixture)
        var reader = AuditLogExecReader(
            lines: try LineReader(path: Self.fixture.path),
            graceMilliseconds: 2000,
            batchSize: 5
        )
        var asked = 0
        var batches = 0
        reader.mostWorkAhead = {
            asked += 1
            return batches < 4 ? .identity : .arguments
        }
        var normalizer = ExecEventNormalizer(hostName: "test-host", users: fixedUsers([:]))
        var events: [ExecEvent] = []
        reader.read { batch in
            batches += 1
            for item in batch.items {
                if case .exec(let completed) = item { events.append(normalizer.event(from: completed)) }
            }
            return .behind
        }
        #expect(batches > 8)
        #expect(asked == batches - 1, "asked for every batch but the last (nothing is read after it)")
        #expect(events == plain.events)
        #expect(normalizer.malformedArgumentFields == plain.malformedFields)
    }

    @Test func aReadErrorEndsTheLastBatchAfterTheExecsBeforeIt() throws {
        // A directory opens, but read(2) fails (EISDIR).
        let directory = FileManager.default.temporaryDirectory.path
        var reader = AuditLogExecReader(lines: try LineReader(path: directory), graceMilliseconds: 2000)
        var ends: [CompletedExecBatch.End] = []
        reader.read { batch in
            #expect(batch.items.isEmpty)
            if let end = batch.end { ends.append(end) }
            return .busy
        }
        #expect(ends.count == 1)
        #expect(ends.first?.failure?.errno == EISDIR)
        #expect(ends.first?.failure?.path == directory)
    }

    @Test func aLongStretchWithoutExecsIsStillHandedOnInSteps() throws {
        // 3 MiB of records of other syscalls: empty batches mark the progress every 256 KiB.
        let line =
            "type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=2 success=yes exit=3 pid=1 comm=\"cat\" exe=\"/bin/cat\"\n"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("no-execs-\(getpid())-\(UUID()).log")
        defer { try? FileManager.default.removeItem(at: file) }
        try String(repeating: line, count: (3 << 20) / line.utf8.count + 1).write(
            to: file,
            atomically: true,
            encoding: .utf8
        )
        var reader = AuditLogExecReader(lines: try LineReader(path: file.path), graceMilliseconds: 2000)
        var offsets: [Int] = []
        reader.read { batch in
            offsets.append(batch.inputOffset)
            return .busy
        }
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        #expect(offsets.count == 12 && offsets.last == size)
        let starts = [0] + offsets.dropLast()
        #expect(zip(starts, offsets).allSatisfy { $1 - $0 <= (256 << 10) + line.utf8.count })
    }
}
