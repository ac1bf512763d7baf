import ExecEvents
import Testing

@testable import HostProcesses

/// A command line that says how many bytes it holds, decoded to a fixed text.
private struct SizedCommandLine: DeferredCommandLine {
    var text: String?
    var heldBytes: Int

    func decode() -> String? { text }
}

@Suite("A known process's footprint, and the table's bytes")
struct KnownProcessFootprintTests {
    /// The footprint as the generic ``MemoryFootprint`` conformances of its parts count it.
    static func naiveFootprint(_ process: KnownProcess, deferredBytes: Int?) -> Int {
        let commandLineBytes = deferredBytes ?? (process.commandLine.footprintBytes - MemoryLayout<String?>.stride)
        return MemoryLayout<KnownProcess>.stride + process.programName.footprintBytes
            + process.exePath.footprintBytes + commandLineBytes - 2 * MemoryLayout<String>.stride
    }

    static let lengths = Array(0...40) + [63, 64, 65, 255, 4096]

    static func text(_ length: Int) -> String {
        String(repeating: "é", count: length / 2) + (length % 2 == 1 ? "a" : "")
    }

    @Test func itIsWhatTheGenericConformancesCount() {
        for length in Self.lengths {
            let name = Self.text(length)
            for exePath in [nil, "/usr/bin/" + name, Self.text(length + 7)] {
                for commandLine in [nil, name, Self.text(3 * length)] {
                    let process = KnownProcess(programName: name, exePath: exePath, commandLine: commandLine)
                    #expect(process.footprintBytes == Self.naiveFootprint(process, deferredBytes: nil))
                }
                let deferred = KnownProcess(
                    programName: name,
                    exePath: exePath,
                    deferredCommandLine: SizedCommandLine(text: name, heldBytes: 100 + length)
                )
                #expect(deferred.footprintBytes == Self.naiveFootprint(deferred, deferredBytes: 100 + length))
            }
        }
    }

    @Test func theTableCountsEachEntryAsRecordedReplacedAndDecoded() {
        var table = ProcessTable()
        var expected: [Int64: Int] = [:]
        for (step, length) in Self.lengths.enumerated() {
            let pid = Int64(step % 7)
            let process = KnownProcess(
                programName: Self.text(length),
                exePath: Self.text(length + 1),
                deferredCommandLine: SizedCommandLine(text: Self.text(2 * length), heldBytes: 50 + length)
            )
            expected[pid] = ProcessTable.entryBytes + process.footprintBytes
            table.record(pid: pid, startTime: nil, process)
            #expect(table.heldBytes == expected.values.reduce(0, +))
            if step % 3 == 0 {
                // The command line decoded in place, and the entry counted anew.
                let found = table.process(ofPID: pid, startTime: nil)
                #expect(found?.commandLine == Self.text(2 * length))
                #expect(found?.commandLineIsDeferred == false)
                expected[pid] = ProcessTable.entryBytes + found!.footprintBytes
                #expect(table.heldBytes == expected.values.reduce(0, +))
            }
            #expect(table.process(ofPID: pid, startTime: 5) == nil, "another start time is another process")
        }
        #expect(table.count == expected.count)
    }
}
