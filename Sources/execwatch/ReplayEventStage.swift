import AuditRecords
import ExecEvents

/// Replay's second stage: for each completed exec, its event (for rules only when a rule may
/// match it, unless events are printed), the rules and the printed lines; each malformed line
/// reported as it comes, and the summary at the end.
struct ReplayEventStage {
    private let inputName: String
    private let emitEvents: Bool
    private let detection: Detection?
    private var normalizer: ExecEventNormalizer
    private var diagnostics = DiagnosticLimiter()
    private let output = StandardOutput.shared
    /// One buffer for every event's line.
    private var json = JSONWriter()

    /// - Parameter inputName: the input as diagnostics name it (see ``LineReader/path``).
    init(inputName: String, hostName: String, emitEvents: Bool, detection: Detection?) {
        self.inputName = inputName
        self.emitEvents = emitEvents
        self.detection = detection
        normalizer = ExecEventNormalizer(hostName: hostName)
        // Printed events alone: their JSON writes swParam from args, not from a joined copy.
        normalizer.derivesSwParam = !emitEvents || detection != nil
    }

    /// How many execs ahead of the one derived the next ones are prefetched: far enough for
    /// their bytes to arrive from the reading thread's CPU meanwhile.
    static let prefetchDistance = 2

    mutating func take(_ batch: borrowing CompletedExecBatch) {
        for k in 0..<min(Self.prefetchDistance, batch.items.count) { batch.prefetchForDeriving(at: k) }
        for (index, item) in batch.items.enumerated() {
            batch.prefetchForDeriving(at: index + Self.prefetchDistance)
            switch item {
            case .exec(let completed): take(completed)
            case .malformedLine(let number, let reason):
                if diagnostics.admits() {
                    if let reason {
                        diagnostics.write("\(inputName):\(number): malformed audit record, skipped: \(reason)")
                    } else {
                        diagnostics.write(
                            "\(inputName):\(number): line longer than \(LineReader.maximumLineLength) bytes, skipped"
                        )
                    }
                }
            }
        }
    }

    private mutating func take(_ completed: AuditEventAssembler.CompletedExec) {
        var event: ExecEvent
        if !emitEvents, let detection, !detection.mayMatchEveryExec {
            // Most events match no rule: derive the whole event only for those that may.
            event = normalizer.probe(from: completed)
            guard detection.mayMatch(event) else { return }
            normalizer.complete(&event, from: completed)
        } else {
            event = normalizer.event(from: completed)
        }
        if emitEvents {
            json.removeAll()
            event.writeJSON(to: &json, derivingSwParam: !normalizer.derivesSwParam)
            output.writeLine(json.bytes)
        }
        detection?.process(consume event)
    }

    /// The incidents (final states) and the summary, after the last batch.
    func finish(_ statistics: AuditStatistics) {
        diagnostics.finish()
        var incidentCount = 0
        if let detection {
            incidentCount = detection.writeIncidents(to: output)
        }
        output.flush()
        let s = statistics
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

/// Prints the first diagnostics in full and counts the rest, so a damaged log cannot flood stderr.
struct DiagnosticLimiter {
    var limit = 20
    private(set) var count = 0

    /// Counts one diagnostic; true when it is to be written (see ``write(_:)``).
    mutating func admits() -> Bool {
        count += 1
        return count <= limit
    }

    func write(_ message: String) {
        StandardError.write("execwatch: \(message)\n")
    }

    func finish() {
        if count > limit { StandardError.write("execwatch: … and \(count - limit) more malformed lines\n") }
    }
}
