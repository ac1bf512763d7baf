import ArgumentParser
import AuditRecords
import CMalloc
import ExecEvents
import RuleEngine

/// `execwatch replay`: an audit log in, events and/or incidents out, as JSON lines.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay an audit log through normalization and the rules.",
        discussion: """
            Reads audit records (audit.log lines or the auditd plugin string format, with or without \
            node= prefixes and ENRICHED fields) from FILE, or standard input when FILE is - or absent, \
            and prints JSON lines to standard output. A summary goes to standard error.
            """
    )

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case incidents, events, both
    }

    @Argument(help: "The audit log to read; - for standard input.")
    var file: String = "-"

    @Option(
        name: .customLong("rules"),
        help: "A rule file or a directory of *.xml rules (repeatable; default: the shipped rules)."
    )
    var rulePaths: [String] = []

    @Option(help: "What to print: incidents (final state, at the end), events (one per exec), or both.")
    var emit: Emit = .incidents

    @Option(help: "The hostName of the events (default: this host's name).")
    var host: String?

    @Option(help: "The agentId written into incidents (default: the hostName).")
    var agentId: String?

    @Option(help: "Event-time grace, in milliseconds, before an event without EOE is taken as complete.")
    var graceMilliseconds: Int64 = 2000

    func run() throws {
        keepFreedMemoryForReuse()
        let hostName = host ?? LocalHost.name
        let detection = emit == .events ? nil : try Detection(rulePaths: rulePaths, agentId: agentId ?? hostName)
        let reader = try openInput(file)
        // A mapped file's lines outlive the callback: EXECVE records need not be copied.
        var assembler = AuditEventAssembler(
            graceMilliseconds: graceMilliseconds,
            borrowsRecordBytes: reader.linesStayValid
        )
        var normalizer = ExecEventNormalizer(hostName: hostName)
        var diagnostics = DiagnosticLimiter()
        let output = StandardOutput.shared
        let emitEvents = emit != .incidents
        var json = JSONWriter()  // one buffer for every event's line
        let handle: (AuditEventAssembler.CompletedExec) -> Void = { completed in
            if !emitEvents, let detection {
                // Most events match no rule: derive the whole event only for those that may.
                guard detection.mayMatch(normalizer.indexProbe(from: completed)) else { return }
            }
            let event = normalizer.event(from: completed)
            if emitEvents {
                json.removeAll()
                event.writeJSON(to: &json)
                output.writeLine(json.bytes)
            }
            detection?.process(event)
        }
        do {
            try reader.forEachLine { line, number in
                guard let line else {
                    assembler.countMalformedLine()
                    diagnostics.report(
                        "\(reader.path):\(number): line longer than \(LineReader.maximumLineLength) bytes, skipped"
                    )
                    return
                }
                if line.isEmpty { return }
                if let reason = assembler.ingest(line: line, handle) {
                    diagnostics.report("\(reader.path):\(number): malformed audit record, skipped: \(reason)")
                }
            }
        } catch {
            StandardError.write("execwatch: \(error)\n")
            throw ExitWithStatus(status: ExitStatus.failure)
        }
        // The reader's mapping must outlive the events that still refer to it.
        withExtendedLifetime(reader) { assembler.finish(handle) }
        diagnostics.finish()

        var incidentCount = 0
        if let detection {
            incidentCount = detection.writeIncidents(to: output)
        }
        output.flush()
        let s = assembler.statistics
        var summary = "replay: \(s.records) records, \(s.execs) events, \(s.failedExecs) failed execs, "
        summary += "\(s.malformedRecords) malformed lines"
        if normalizer.malformedArgumentFields > 0 {
            summary += ", \(normalizer.malformedArgumentFields) malformed EXECVE fields"
        }
        if s.forcedCompletions > 0 { summary += ", \(s.forcedCompletions) events completed early (too many open)" }
        if detection != nil { summary += ", \(incidentCount) incidents" }
        StandardError.write(summary + "\n")
    }
}

/// Replay allocates and frees each event's buffers (tens of kB for a long argv, more for its
/// JSON line) thousands of times a second. By default glibc hands the top of its heap back to the
/// kernel once 128 KiB of it are free, and maps blocks over its (moving) threshold afresh, so
/// those buffers' pages were faulted in again event after event. Here freed memory stays in the
/// heap for the next event: peak memory is what it was, only the page faults go.
private func keepFreedMemoryForReuse() {
    _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
    _ = mallopt(M_MMAP_THRESHOLD, 16 << 20)
}

/// Prints the first diagnostics in full and counts the rest, so a damaged log cannot flood stderr.
struct DiagnosticLimiter {
    var limit = 20
    private(set) var count = 0

    mutating func report(_ message: String) {
        count += 1
        if count <= limit { StandardError.write("execwatch: \(message)\n") }
    }

    func finish() {
        if count > limit { StandardError.write("execwatch: … and \(count - limit) more malformed lines\n") }
    }
}
