import ExecEvents
import Foundation
import HostProcesses

@testable import AuditRecords

/// Where test inputs live: the fixtures beside the tests, and the shared corpora beside the repo.
enum TestPaths {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/audit")
    static let corpora = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")

    static var corporaPresent: Bool {
        FileManager.default.fileExists(atPath: corpora.appendingPathComponent("laurel").path)
    }
}

/// The result of running records through the assembler and the normalizer, as replay does.
struct ReplayResult {
    var events: [ExecEvent] = []
    /// Audit serial of each event, same order as `events`.
    var serials: [UInt64] = []
    var nodes: [String?] = []
    var statistics = AuditStatistics()
    /// EXECVE fields the normalizer could not decode.
    var malformedFields = 0
    /// (line number, reason) of each malformed line.
    var malformed: [(Int, String)] = []
}

func replay(
    text: String,
    users: [Int64: String] = [:],
    host: String = "test-host",
    graceMilliseconds: Int64 = 2000
) -> ReplayResult {
    var assembler = AuditEventAssembler(graceMilliseconds: graceMilliseconds)
    var normalizer = ExecEventNormalizer(hostName: host, users: fixedUsers(users))
    var result = ReplayResult()
    let emit: (AuditEventAssembler.CompletedExec) -> Void = { completed in
        result.events.append(normalizer.event(from: completed))
        result.serials.append(completed.serial)
        result.nodes.append(completed.node)
    }
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        if line.isEmpty { continue }
        let bytes = Array(line.utf8)
        let reason = bytes.withUnsafeBytes { raw in assembler.ingest(line: raw, emit) }
        if let reason { result.malformed.append((index + 1, reason)) }
    }
    assembler.finish(emit)
    result.statistics = assembler.statistics
    result.malformedFields = normalizer.malformedArgumentFields
    return result
}

/// Replays a file with the streaming reader, as `execwatch replay` does: its reading side
/// (``AuditLogExecReader``) hands batches to the normalizer.
func replay(
    file: URL,
    users: [Int64: String] = [:],
    host: String = "test-host",
    batchSize: Int = 64,
    workAhead: AuditLogExecReader.WorkAhead = .none
) throws -> ReplayResult {
    var normalizer = ExecEventNormalizer(hostName: host, users: fixedUsers(users))
    var result = ReplayResult()
    var reader = AuditLogExecReader(
        lines: try LineReader(path: file.path),
        graceMilliseconds: 2000,
        batchSize: batchSize
    )
    reader.workAhead = workAhead
    var end: CompletedExecBatch.End?
    reader.read { batch in
        for item in batch.items {
            switch item {
            case .exec(let completed):
                result.events.append(normalizer.event(from: completed))
                result.serials.append(completed.serial)
                result.nodes.append(completed.node)
            case .malformedLine(let number, let reason):
                result.malformed.append((number, reason ?? "too long"))
            }
        }
        end = batch.end
        return .behind  // the work ahead grows to `workAhead` from the second batch on
    }
    if let failure = end?.failure { throw failure }
    result.statistics = end!.statistics
    result.malformedFields = normalizer.malformedArgumentFields
    return result
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// A user-name cache that knows exactly `users` (audit's uids are 64-bit; uid_t's are 32).
func fixedUsers(_ users: [Int64: String]) -> UserNameCache {
    UserNameCache(names: Dictionary(uniqueKeysWithValues: users.map { (UInt32(truncatingIfNeeded: $0.key), $0.value) }))
}
