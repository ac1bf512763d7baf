import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL, for real: a separate process stores incidents in a loop and reports each one once
/// `store` has returned; it is killed at a moment it does not choose, and every incident it
/// reported as stored must be in the journal, at that version or later, with its outbox row.
///
/// The writer is this test binary itself, started again with only ``writeUntilKilled()``
/// selected and the journal's directory in ``writerVariable`` (that test is skipped otherwise).
/// It proves the process-crash half of the promise; the power-loss half rests on
/// `synchronous=FULL`, which ``DurabilityTests`` checks is in effect.
@Suite("Killed while storing")
struct CrashTests {
    static let writerVariable = "EXECWATCH_JOURNAL_CRASH_WRITER_DIRECTORY"
    static var writerDirectory: String? { getenv(writerVariable).map { String(cString: $0) } }

    @Test(.enabled(if: writerDirectory == nil), arguments: [1, 25, 200])
    func everythingReportedAsStoredSurvivesSIGKILL(killAfter reports: Int) async throws {
        let directory = try TemporaryDirectory()
        let writer = try WriterProcess(directory: directory.path)
        var reported = try await writer.waitForReports(atLeast: reports)
        writer.kill()
        // Lines written between the last look and the kill count too.
        reported = try writer.reports()
        #expect(reported.count >= reports)

        try await IncidentJournal.with(directory.path + "/state") { (journal) async throws in
            #expect(try await journal.firstValue(of: "PRAGMA integrity_check") == "ok")
            let stored = try await journal.incidents()
            let outbox = try await journal.pendingOutbox(limit: 1_000_000)
            for (id, version) in reported {
                let row = stored.first { $0.incidentId.description == id }
                #expect(row.map { $0.version >= version } == true, "incident \(id) v\(version) was lost")
                #expect(
                    outbox.contains { $0.incidentId.description == id && $0.version == version },
                    "outbox row of \(id) v\(version) was lost"
                )
            }
        }
    }

    /// The writer's side (runs only in the child process).
    @Test(.enabled(if: writerDirectory != nil, "runs only in the writer process"))
    func writeUntilKilled() async throws {
        let directory = try #require(Self.writerDirectory)
        let report = open(directory + "/reported", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        #expect(report >= 0)
        let journal = try await IncidentJournal.open(stateDirectory: directory + "/state")
        var versions: [String: Int64] = [:]
        let deadline = EventTime.now.adding(seconds: 60)  // in case nobody kills it
        var round = 0
        while EventTime.now < deadline {
            let group = "user\(round % 7)"
            let version = (versions[group] ?? 0) + 1
            versions[group] = version
            let update = Sample.update(group: group, version: version)
            let stored: IncidentUpdate
            if round % 3 == 0 {
                stored = try await journal.store([update, Sample.update(group: "batch\(round)", version: 1)])[0]
            } else {
                stored = try await journal.store(update)
            }
            // Reported as stored: store has returned, with the version the journal gave it.
            let line = Array("\(stored.incident.incidentId) \(stored.incident.version)\n".utf8)
            #expect(write(report, line, line.count) == line.count)
            round += 1
        }
        try await journal.close()
    }
}

/// The writer: this test binary run again, with its output in `writer.log`.
private struct WriterProcess {
    let directory: String
    let pid: pid_t

    init(directory: String) throws {
        self.directory = directory
        let arguments = ["/proc/self/exe", "--testing-library", "swift-testing", "--filter", "writeUntilKilled"]
        var environment: [String] = []
        var entry = environ
        while let variable = entry.pointee {
            environment.append(String(cString: variable))
            entry += 1
        }
        environment.append("\(CrashTests.writerVariable)=\(directory)")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/writer.log", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/proc/self/exe", &actions, nil, argv, envp)
        guard result == 0 else { throw TestFailure("posix_spawn failed: \(result)") }
        self.pid = pid
    }

    /// The complete `id version` lines reported so far.
    func reports() throws -> [(String, Int64)] {
        let text = readFile(directory + "/reported")
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let version = Int64(fields[1]) else { return nil }
            return (String(fields[0]), version)
        }
    }

    func waitForReports(atLeast count: Int) async throws -> [(String, Int64)] {
        for _ in 0..<6000 {
            let reported = try reports()
            if reported.count >= count { return reported }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw TestFailure("the writer ended early (status \(status)):\n\(readFile(directory + "/writer.log"))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        kill()
        throw TestFailure("the writer reported nothing in 60 s:\n\(readFile(directory + "/writer.log"))")
    }

    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

private func readFile(_ path: String) -> String {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return "" }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(descriptor, &buffer, buffer.count)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}
