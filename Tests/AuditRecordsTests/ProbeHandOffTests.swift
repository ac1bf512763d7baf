import ExecEvents
import Foundation
import HostProcesses
import Testing

@testable import AuditRecords

/// Every log these tests can read: the fixtures, and the corpora when they are present.
private func auditLogs() throws -> [URL] {
    var directories = [TestPaths.fixtures]
    if TestPaths.corporaPresent { directories.append(TestPaths.corpora) }
    var logs: [URL] = []
    for directory in directories {
        let walk = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let url = walk?.nextObject() as? URL {
            if url.pathExtension == "log" { logs.append(url) }
        }
    }
    return logs.sorted { $0.path < $1.path }
}

/// The completed execs of a log, in order.
private func completedExecs(of log: URL) throws -> [AuditEventAssembler.CompletedExec] {
    var assembler = AuditEventAssembler()
    var completed: [AuditEventAssembler.CompletedExec] = []
    let reader = try LineReader(path: log.path)
    try reader.forEachLine { line, _ in
        if let line, !line.isEmpty { _ = assembler.ingest(line: line) { completed.append($0) } }
    }
    assembler.finish { completed.append($0) }
    return completed
}

@Suite("An index probe handed back by the caller gives the event derived alone")
struct ProbeHandOffTests {
    /// Every exec of every log, two ways, each with its own normalizer: the event alone; the
    /// probe held by the caller and handed back. Every third exec only gets its probe (as an
    /// exec no rule may match), so the process table sees the same execs in both, and parent
    /// facts are compared too.
    @Test func bothWaysAgreeOnEveryLog() throws {
        var compared = 0
        for log in try auditLogs() {
            let users = fixedUsers([0: "root", 1000: "alice"])
            var alone = ExecEventNormalizer(hostName: "h", users: users)
            var handed = ExecEventNormalizer(hostName: "h", users: users)
            // Separate assemblies: an exec's records are read lazily, once, and kept in it.
            let execs = (try completedExecs(of: log), try completedExecs(of: log))
            for index in execs.0.indices {
                let handedProbe = handed.probe(from: execs.1[index])
                if index % 3 == 2 {
                    #expect(alone.probe(from: execs.0[index]) == handedProbe, "\(log.lastPathComponent) exec \(index)")
                    continue
                }
                let expected = alone.event(from: execs.0[index])
                #expect(
                    handed.event(from: execs.1[index], probe: handedProbe) == expected,
                    "\(log.lastPathComponent) exec \(index)"
                )
                compared += 1
            }
            #expect(handed.malformedArgumentFields == alone.malformedArgumentFields)
        }
        #expect(compared > 0)
    }

    @Test func identityAndContextReadInEitherOrderAreTheSame() throws {
        for log in try auditLogs() {
            let identityFirst = try completedExecs(of: log)
            let contextFirst = try completedExecs(of: log)
            for (a, b) in zip(identityFirst, contextFirst) {
                let identity = (a.exec.identity.pid, a.exec.identity.exePath, a.exec.identity.invokedPath)
                let context = b.exec.context
                #expect(identity.0 == b.exec.identity.pid)
                #expect(identity.1 == b.exec.identity.exePath)
                #expect(identity.2 == b.exec.identity.invokedPath)
                #expect(a.exec.commBytes == b.exec.commBytes)
                #expect(a.exec.context.ppid == context.ppid)
                #expect(a.exec.context.uid == context.uid)
                #expect(a.exec.context.auid == context.auid)
                #expect(a.exec.context.tty == context.tty)
                #expect(a.exec.context.key == context.key)
                #expect(a.exec.context.uidName == context.uidName)
                #expect(a.exec.context.euid == context.euid)
                #expect(a.exec.context.auidName == context.auidName)
                // Read once: the record is not scanned again however often they are asked for.
                let scanned = a.exec.syscallBytesScanned
                _ = (a.exec.identity.pid, a.exec.context.ppid, a.exec.identity.exePath)
                #expect(a.exec.syscallBytesScanned == scanned)
            }
        }
    }
}
