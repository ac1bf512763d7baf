import ExecEvents

/// What the collector says in the body of its reply.
///
/// Success: `{"accepted":N,"created":a,"updated":b,"unchanged":c,"incidents":[…]}`;
/// failure: `{"error":"reason"}`. Anything else (a proxy's HTML page, plain text) is kept as a short
/// excerpt for the log.
struct CollectorReplyBody: Sendable, Equatable {
    /// Incidents the collector took (`accepted`), when it said so.
    var accepted: Int64?
    var created: Int64?
    var updated: Int64?
    var unchanged: Int64?
    /// The collector's reason for refusing (`error`), or an excerpt of a body that is not its JSON.
    var reason: String?

    /// Longest excerpt of a foreign body kept for the log.
    static let excerptLength = 200

    init(
        accepted: Int64? = nil,
        created: Int64? = nil,
        updated: Int64? = nil,
        unchanged: Int64? = nil,
        reason: String? = nil
    ) {
        self.accepted = accepted
        self.created = created
        self.updated = updated
        self.unchanged = unchanged
        self.reason = reason
    }

    init(bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if let value = try? JSONValue.parse(bytes: bytes), case .object = value {
            accepted = Self.integer(value["accepted"])
            created = Self.integer(value["created"])
            updated = Self.integer(value["updated"])
            unchanged = Self.integer(value["unchanged"])
            switch value["error"] {
            case .string(let text): reason = text
            case .some(let other) where other != .null: reason = Self.excerpt(Array(String(describing: other).utf8))
            default: break
            }
            if reason == nil, case .string(let text) = value["reason"] ?? value["message"] { reason = text }
            return
        }
        reason = Self.excerpt(bytes)
    }

    private static func integer(_ value: JSONValue?) -> Int64? {
        if case .integer(let number) = value { return number }
        return nil
    }

    /// The start of a text body, on one line, without control characters.
    private static func excerpt(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes.prefix(excerptLength * 4), as: UTF8.self)
        var out = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            if out.unicodeScalars.count >= excerptLength {
                out += "…"
                break
            }
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == " " {
                if !lastWasSpace, !out.isEmpty { out += " " }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out.isEmpty ? nil : out
    }
}
