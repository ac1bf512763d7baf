/// Rules read from sources, the errors of those that could not be read, and warnings about rules
/// that load but name attributes no source produces (`rules check --strict` makes them errors).
public struct RuleLoadResult: Sendable {
    public var rules: [Rule]
    public var errors: [RuleError]
    public var warnings: [RuleError]
    /// Rules read but not for execwatch's events (a Sigma rule of another logsource), with the reason.
    public var skipped: [RuleError]
    /// Sigma correlation rules read, waiting for the rules they name (``RuleLoader`` resolves them
    /// once every file is read).
    var pendingCorrelations: [PendingCorrelation] = []
    /// Sigma rule `name` → rule id, for correlation rules that name the rules they correlate.
    var sigmaNames: [String: String] = [:]

    public init(rules: [Rule] = [], errors: [RuleError] = [], warnings: [RuleError] = [], skipped: [RuleError] = []) {
        self.rules = rules
        self.errors = errors
        self.warnings = warnings
        self.skipped = skipped
    }
}

/// Reads FortiSIEM rule XML: a `<Rules>` root with `<Rule>` children, or a single `<Rule>` root.
///
/// Each rule is compiled on its own, so a bad rule is reported and the good ones beside it still
/// load. A file that is not well-formed XML yields one error and no rules. Duplicate ids are not
/// checked here (see ``RuleLoader``).
public enum RuleDocument {
    public static func parse(_ bytes: [UInt8], file: String) -> RuleLoadResult {
        let locator = SourceLocator(bytes)
        func ruleError(_ offset: Int, _ message: String, ruleId: String? = nil) -> RuleError {
            let p = locator.position(ofOffset: offset)
            return RuleError(file: file, line: p.line, column: p.column, message: message, ruleId: ruleId)
        }
        let root: XMLElement
        do {
            root = try XMLParser.parse(bytes)
        } catch {
            return RuleLoadResult(errors: [RuleError(positioned: error, file: file, locator: locator)])
        }
        let ruleElements: [XMLElement]
        switch root.name {
        case "Rules": ruleElements = root.children(named: "Rule")
        case "Rule": ruleElements = [root]
        default:
            return RuleLoadResult(errors: [
                ruleError(root.offset, "expected <Rules> or <Rule> as the root element, found <\(root.name)>")
            ])
        }
        var result = RuleLoadResult()
        let compiler = RuleCompiler(file: file, locator: locator)
        for element in ruleElements {
            let id = element.attribute("id")?.value.trimmed ?? element.attribute("natural_id")?.value.trimmed
            var warnings: [PositionedError] = []
            do {
                result.rules.append(try compiler.compile(element, warnings: &warnings))
                result.warnings += warnings.map { ruleError($0.offset, $0.message, ruleId: id) }
            } catch {
                result.errors.append(ruleError(error.offset, error.message, ruleId: id))
            }
        }
        return result
    }

    public static func parse(_ text: String, file: String) -> RuleLoadResult {
        parse(Array(text.utf8), file: file)
    }
}

extension RuleError {
    init(positioned error: XMLParseError, file: String, locator: SourceLocator) {
        let p = locator.position(ofOffset: error.offset)
        self.init(file: file, line: p.line, column: p.column, message: error.message)
    }
}

/// An error found while compiling one rule, at a byte offset of the source.
struct PositionedError: Error {
    var offset: Int
    var message: String
}
