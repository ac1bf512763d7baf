/// A rule that could not be loaded: the file, line and column (1-based; 0 when the problem concerns
/// the whole file, e.g. it cannot be read) and what was expected or wrong there.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    /// The id of the rule concerned, when known.
    public var ruleId: String?

    public init(file: String, line: Int, column: Int, message: String, ruleId: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.ruleId = ruleId
    }

    /// `rules/x.xml:12:34: expected '>' to close <Rule>` (compiler style).
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }

    /// The same with a severity word after the position: `rules/x.xml:3:5: warning: …`.
    public func positionedText(_ severity: String) -> String {
        line > 0 ? "\(file):\(line):\(column): \(severity): \(message)" : "\(file): \(severity): \(message)"
    }
}
