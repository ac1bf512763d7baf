import ArgumentParser

/// `execwatch replay`: an audit log in, events and/or incidents out, as JSON lines.
///
/// Usually its arguments are parsed by hand (``ReplayOptions/init(parsing:)``); this parses the
/// rest, with help and errors, and runs the same ``Replay``.
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

    @Argument(help: "The audit log to read; - for standard input.")
    var file: String = "-"

    @Option(
        name: .customLong("rules"),
        help: "A rule file or a directory of *.xml rules (repeatable; default: the shipped rules)."
    )
    var rulePaths: [String] = []

    @Option(help: "What to print: incidents (final state, at the end), events (one per exec), or both.")
    var emit: ReplayOptions.Emit = .incidents

    @Option(help: "The hostName of the events (default: this host's name).")
    var host: String?

    @Option(help: "The agentId written into incidents (default: the hostName).")
    var agentId: String?

    @Option(help: "Event-time grace, in milliseconds, before an event without EOE is taken as complete.")
    var graceMilliseconds: Int64 = 2000

    @Option(
        help: """
            1: one thread does everything; 2: one reads and assembles the records while the other \
            derives events, runs the rules and prints (default: 2 when 2 or more CPUs are available).
            """
    )
    var threads: Int?

    func validate() throws {
        if let threads, !ReplayOptions.threadChoices.contains(threads) {
            throw ValidationError("--threads must be 1 or 2, not \(threads)")
        }
    }

    var options: ReplayOptions {
        var options = ReplayOptions()
        options.file = file
        options.rulePaths = rulePaths
        options.emit = emit
        options.host = host
        options.agentId = agentId
        options.graceMilliseconds = graceMilliseconds
        options.threads = threads
        return options
    }

    func run() throws {
        try Replay(options: options).run()
    }
}

extension ReplayOptions.Emit: ExpressibleByArgument {}
