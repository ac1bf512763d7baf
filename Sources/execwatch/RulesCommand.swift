import ArgumentParser
import AuditRecords
import ExecEvents
import RuleEngine

/// `execwatch rules`: check, list and test rules before deploying them.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, list and test FortiSIEM rules.",
        subcommands: [Check.self, List.self, Test.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load rule files and report every error and warning with file, line and column.",
            discussion: """
                Warnings name attributes no source produces (a misspelt procNam never matches). Exit status 0 \
                when every rule loads (warnings allowed unless --strict), 2 when any error was found or, with \
                --strict, any warning.
                """
        )

        @Argument(help: "Rule files or directories of *.xml (FortiSIEM) and *.yml/*.yaml (Sigma) rules.")
        var paths: [String]

        @Flag(help: "Treat warnings as errors (exit status 2).")
        var strict = false

        func run() throws {
            let result = RuleLoader.load(paths: paths)
            for error in result.errors { StandardError.write("\(error)\n") }
            for warning in result.warnings { StandardError.write("\(warning.positionedText("warning"))\n") }
            for skipped in result.skipped { StandardError.write("\(skipped.positionedText("note"))\n") }
            let summary =
                "\(result.rules.count) rule(s) loaded, \(result.errors.count) error(s), \(result.warnings.count) warning(s)"
                + (result.skipped.isEmpty ? "" : ", \(result.skipped.count) skipped")
            let failed = !result.errors.isEmpty || result.rules.isEmpty || (strict && !result.warnings.isEmpty)
            if !failed {
                StandardOutput.shared.writeLine("ok: \(summary)")
                return
            }
            StandardError.write("execwatch: \(summary)\(strict && !result.warnings.isEmpty ? " (--strict)" : "")\n")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules that would be used.")

        @Option(name: .customLong("rules"), help: "A rule file or directory (repeatable; default: the shipped rules).")
        var rulePaths: [String] = []

        @Flag(help: "One JSON object per rule instead of a table.")
        var json = false

        func run() throws {
            let rules = try Detection.loadRules(rulePaths)
            let output = StandardOutput.shared
            if json {
                for rule in rules {
                    var writer = JSONWriter()
                    writer.beginObject()
                    writer.key("ruleId")
                    writer.string(rule.id)
                    writer.key("ruleName")
                    writer.string(rule.name)
                    writer.key("active")
                    writer.bool(rule.isActive)
                    writer.key("severity")
                    writer.integer(Int64(rule.severity))
                    writer.key("category")
                    writer.string(rule.category)
                    writer.key("tactics")
                    writer.beginArray()
                    for tactic in rule.tactics { writer.string(tactic) }
                    writer.endArray()
                    writer.key("techniques")
                    writer.beginArray()
                    for technique in rule.techniques { writer.string(technique) }
                    writer.endArray()
                    writer.key("window")
                    writer.integer(rule.windowSeconds)
                    writer.key("file")
                    writer.string(rule.location.description)
                    if let author = rule.author {
                        writer.key("author")
                        writer.string(author)
                    }
                    if let source = rule.sourceReference {
                        writer.key("source")
                        writer.string(source)
                    }
                    writer.endObject()
                    output.writeLine(writer.bytes)
                }
                return
            }
            output.writeLine("RULE ID\tSEVERITY\tWINDOW\tACTIVE\tNAME\tFILE\tSOURCE")
            for rule in rules {
                output.writeLine(
                    "\(rule.id)\t\(rule.severity)\t\(rule.windowSeconds)s\t\(rule.isActive ? "yes" : "no")\t\(rule.name)\t\(rule.location)\t\(rule.sourceReference ?? "-")"
                )
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate events from a JSON lines file and print the resulting incidents.",
            discussion: """
                Each line is one event: a JSON object with attribute names as keys (eventType, eventTime, \
                hostName, user, procName, swParam, …). eventTime is RFC 3339 text or epoch seconds. Events \
                are evaluated in file order; the final state of every incident is printed as JSON lines.
                """
        )

        @Option(help: "Events as JSON lines; - for standard input.")
        var events: String

        @Option(name: .customLong("rules"), help: "A rule file or directory (repeatable; default: the shipped rules).")
        var rulePaths: [String] = []

        @Option(help: "hostName for events that do not carry one (default: this host's name).")
        var host: String?

        func run() throws {
            let detection = try Detection(rulePaths: rulePaths)
            let hostName = host ?? LocalHost.name
            let reader = try openInput(events)
            var count = 0
            var bad = 0
            try reader.forEachLine { line, number in
                guard let line else {
                    bad += 1
                    StandardError.write("execwatch: \(reader.path):\(number): line too long, skipped\n")
                    return
                }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }
                do {
                    let json = try JSONValue.parse(bytes: Array(line))
                    let event = try ExecEvent(json: json, defaultHostName: hostName)
                    detection.process(event)
                    count += 1
                } catch {
                    bad += 1
                    StandardError.write("execwatch: \(reader.path):\(number): \(error), event skipped\n")
                }
            }
            let incidents = detection.writeIncidents(to: StandardOutput.shared)
            StandardError.write("rules test: \(count) events, \(bad) bad lines, \(incidents) incidents\n")
            if bad > 0 { throw ExitWithStatus(status: ExitStatus.failure) }
        }
    }
}
