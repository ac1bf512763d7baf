import CSched

/// What `execwatch replay` is asked to do, as plain values: built by ArgumentParser
/// (``ReplayCommand``) or, without its reflection at start-up, by ``init(parsing:)``.
struct ReplayOptions {
    enum Emit: String, CaseIterable {
        case incidents, events, both
    }

    /// The audit log; `-` is standard input.
    var file = "-"
    var rulePaths: [String] = []
    var emit = Emit.incidents
    var host: String?
    var agentId: String?
    var graceMilliseconds: Int64 = 2000
    /// 1 or 2; nil: 2 when this process may run on two CPUs or more (see ``availableCPUs()``).
    var threads: Int?

    init() {}

    /// How many CPUs this process may run on (its affinity mask), at least 1.
    static func availableCPUs() -> Int {
        Int(execwatch_available_cpus())
    }
}

extension ReplayOptions {
    /// Parses replay's own arguments (those after `replay`) by hand, when every one of them is of
    /// a form ArgumentParser gives the same meaning: `--name value` (a value starting with `-`
    /// only when it is `-` itself), `--name=value`, repeated `--rules`, the last of a repeated
    /// option winning, one FILE anywhere, anything after `--` a FILE. Nil for anything else
    /// (help, `--version`, an unknown option, a missing or bad value, a second FILE, an empty
    /// argument…): ArgumentParser parses those as before, with its messages and exit statuses.
    init?(parsing arguments: ArraySlice<String>) {
        self.init()
        var fileSeen = false
        var onlyFiles = false
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard let first = argument.utf8.first else { return nil }
            if onlyFiles || first != UInt8(ascii: "-") || argument == "-" {
                guard !fileSeen, !(onlyFiles && argument == "--") else { return nil }
                fileSeen = true
                file = argument
                continue
            }
            if argument == "--" {
                onlyFiles = true
                continue
            }
            guard argument.utf8.starts(with: "--".utf8) else { return nil }
            var name = argument.dropFirst(2)
            var value: Substring?
            if let equals = name.firstIndex(of: "=") {
                value = name[name.index(after: equals)...]
                name = name[..<equals]
            } else if index < arguments.endIndex {
                let next = arguments[index]
                if next.utf8.first != UInt8(ascii: "-") || next == "-" {
                    value = next[...]
                    index += 1
                }
            }
            guard let value, !value.isEmpty else { return nil }
            switch name {
            case "rules": rulePaths.append(String(value))
            case "emit":
                guard let emit = Emit(rawValue: String(value)) else { return nil }
                self.emit = emit
            case "host": host = String(value)
            case "agent-id": agentId = String(value)
            case "grace-milliseconds":
                guard let grace = Int64(String(value)) else { return nil }
                graceMilliseconds = grace
            case "threads":
                guard let threads = Int(String(value)), Self.threadChoices.contains(threads) else { return nil }
                self.threads = threads
            default: return nil
            }
        }
    }

    /// What `--threads` accepts.
    static let threadChoices = 1...2
}
