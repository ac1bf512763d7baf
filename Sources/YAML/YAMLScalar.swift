/// A scalar: its text as written (quotes and escapes resolved), its style, its explicit tag
/// (resolved, e.g. `tag:yaml.org,2002:str` for `!!str`) and where it starts.
///
/// The YAML 1.1 types of plain scalars are read on demand (``isNull``, ``bool``, ``integer``);
/// a quoted or tagged scalar is always text.
public struct YAMLScalar: Sendable, Equatable {
    public var value: String
    public var style: YAMLScalarStyle
    public var tag: String?
    public var mark: YAMLMark

    public init(value: String, style: YAMLScalarStyle = .plain, tag: String? = nil, mark: YAMLMark) {
        self.value = value
        self.style = style
        self.tag = tag
        self.mark = mark
    }

    /// YAML 1.1 null: a plain `null`, `Null`, `NULL`, `~` or empty value (not a quoted one).
    public var isNull: Bool {
        if tag == "tag:yaml.org,2002:null" { return true }
        guard isUntypedPlain else { return false }
        switch value {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    /// YAML 1.1 booleans (plain true/false/yes/no/on/off in their case forms), else nil.
    ///
    /// The single letters `y` and `n` stay text, as in PyYAML.
    public var bool: Bool? {
        guard isUntypedPlain || tag == "tag:yaml.org,2002:bool" else { return nil }
        switch value {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    /// A plain decimal (or 0x/0o) integer with checked arithmetic, else nil.
    ///
    /// As YAML 1.1 (and PyYAML) read them: an optional sign, `_` allowed between digits,
    /// `0x` hexadecimal, `0o` or a leading `0` octal, `0b` binary. Nil beyond `Int64`.
    public var integer: Int64? {
        guard isUntypedPlain || tag == "tag:yaml.org,2002:int" else { return nil }
        var digits = Substring(value)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        let radix: Int64
        if digits.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        } else {
            radix = 10
        }
        guard let first = digits.first, first != "_" else { return nil }
        var magnitude: Int64 = 0
        for character in digits {
            if character == "_" { continue }
            guard let digit = character.hexDigitValue, Int64(digit) < radix else { return nil }
            // Accumulated negatively, so Int64.min is reachable.
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: radix)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(digit))
            guard !overflow, !overflow2 else { return nil }
            magnitude = next
        }
        if negative { return magnitude }
        let (positive, overflow) = Int64(0).subtractingReportingOverflow(magnitude)
        return overflow ? nil : positive
    }

    /// Plain and without a tag (or with the non-specific `?`): the scalars YAML types by their text.
    private var isUntypedPlain: Bool { style == .plain && (tag == nil || tag == "?") }
}
