import ExecEvents
import Testing

@testable import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Tests that start processes as other users, or listen to the proc connector, need root.
let isRoot = getuid() == 0

/// The bytes of a text argument.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// This test process's `comm`: what a child sees as `parentProcName` when the reader never read us.
func ownComm() -> String? {
    readText("/proc/self/comm").map { String($0.split(separator: "\n").first ?? "") }
}

/// The snapshot in an outcome, or a test failure saying what came instead.
func taken(_ outcome: ProcessSnapshotOutcome) throws -> ProcessSnapshot {
    guard case .taken(let snapshot) = outcome else {
        throw TestFailure("expected a snapshot, got \(outcome)")
    }
    return snapshot
}

extension ExecEvent {
    /// `args` as text, for readable failure messages.
    var argumentText: [String] { (args ?? []).map { String(decoding: $0, as: UTF8.self) } }
}
