import ExecEvents
import RuleEngine

/// The rules and the engine as the CLI runs them: loads the rule files (reporting every error
/// with its position), evaluates events, and keeps the latest state of every incident.
///
/// A class: replay's per-event closure asks it about every exec, and a struct bound there was
/// copied (every reference in the engine retained and released) once per event.
final class Detection {
    private var engine: DetectionEngine
    /// Latest state of each incident, in the order incidents were created.
    private var incidents: [Incident] = []
    private var indexByID: [IncidentID: Int] = [:]
    /// Whether every exec may match a rule (see ``DetectionEngine/mayMatchEveryExec``): then an
    /// index probe tells nothing, and each exec's whole event is derived.
    let mayMatchEveryExec: Bool

    /// Loads rules from `rulePaths` (files or directories), or the shipped rules when empty.
    /// Rule errors are printed; when no rule could be loaded at all, the run ends with status 2.
    ///
    /// Never freed: a detection lives as long as the command that made it (a replay, a rules
    /// test), and freeing the compiled rules one node at a time on the way out was ~2% of a
    /// start-up with the Sigma corpus.
    init(rulePaths: [String], agentId: String = "") throws {
        let rules = try Self.loadRules(rulePaths)
        engine = DetectionEngine(rules: rules, configuration: EngineConfiguration(agentId: agentId))
        mayMatchEveryExec = engine.mayMatchEveryExec
        _ = Unmanaged.passRetained(self)
    }

    static func loadRules(_ rulePaths: [String]) throws -> [Rule] {
        var paths = rulePaths
        if paths.isEmpty {
            guard let shipped = ShippedRules.directory() else {
                StandardError.write(
                    "execwatch: no shipped rules found (looked in \(ShippedRules.installedDirectory)); use --rules PATH\n"
                )
                throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
            }
            paths = [shipped]
        }
        let result = RuleLoader.load(paths: paths)
        for error in result.errors { StandardError.write("execwatch: \(error)\n") }
        for warning in result.warnings { StandardError.write("execwatch: \(warning.positionedText("warning"))\n") }
        for skipped in result.skipped { StandardError.write("execwatch: \(skipped.positionedText("note"))\n") }
        if result.rules.isEmpty {
            StandardError.write("execwatch: no rules loaded from \(paths.joined(separator: ", "))\n")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        }
        if !result.errors.isEmpty {
            StandardError.write(
                "execwatch: \(result.errors.count) rule error(s); continuing with \(result.rules.count) rule(s)\n"
            )
        }
        return result.rules
    }

    /// Whether a rule may match the event (see ``DetectionEngine/mayMatch(_:)``).
    func mayMatch(_ event: ExecEvent) -> Bool {
        Self.ask(&engine, event)
    }

    /// Through an inout access: a method called on the stored property itself was called on a
    /// copy of the engine (every reference in it retained and released), once per event.
    private static func ask(_ engine: inout DetectionEngine, _ event: ExecEvent) -> Bool {
        engine.mayMatch(event)
    }

    /// Runs the rules on `event`, which moves into the engine (see ``DetectionEngine/process(_:)``).
    func process(_ event: consuming ExecEvent) {
        for update in engine.process(event) {
            if let index = indexByID[update.incident.incidentId] {
                incidents[index] = update.incident
            } else {
                indexByID[update.incident.incidentId] = incidents.count
                incidents.append(update.incident)
            }
        }
    }

    /// Prints the final state of every incident, one JSON object per line; returns how many.
    func writeIncidents(to output: StandardOutput) -> Int {
        for incident in incidents {
            var json = JSONWriter()
            incident.writeJSON(to: &json)
            output.writeLine(json.bytes)
        }
        return incidents.count
    }
}
