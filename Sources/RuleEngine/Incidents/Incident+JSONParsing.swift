import ExecEvents

/// Incident JSON that cannot become an ``RuleEngine/Incident``: which field and why.
public struct IncidentJSONError: Error, Equatable, CustomStringConvertible {
    public var field: String?
    public var reason: String

    public init(field: String?, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String {
        guard let field else { return reason }
        return "field \"\(field)\": \(reason)"
    }
}

extension Incident {
    /// Reads an incident from the JSON ``writeJSON(to:)`` writes; reading back what it wrote gives
    /// an equal incident (every field, trigger events included).
    public init(jsonText: String) throws(IncidentJSONError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(jsonText)
        } catch {
            throw IncidentJSONError(field: nil, reason: "not JSON: \(error)")
        }
        try self.init(json: json)
    }

    /// Reads an incident from a parsed JSON object with the fields of DESIGN.md; every field is
    /// required but `ruleAuthor` and `ruleSource` (strings, absent or null when the rule has none).
    public init(json: JSONValue) throws(IncidentJSONError) {
        guard case .object = json else { throw IncidentJSONError(field: nil, reason: "an incident must be an object") }
        let reader = IncidentFields(json: json)
        let idText = try reader.string("incidentId")
        guard let incidentId = IncidentID(hex: idText) else {
            throw IncidentJSONError(field: "incidentId", reason: "not 32 hex digits: \"\(idText)\"")
        }
        let hostName = try reader.string("hostName")
        var events: [ExecEvent] = []
        for (index, element) in try reader.array("triggerEvents").enumerated() {
            events.append(try Self.triggerEvent(element, index: index, hostName: hostName))
        }
        self.init(
            incidentId: incidentId,
            ruleId: try reader.string("ruleId"),
            ruleName: try reader.string("ruleName"),
            incidentType: try reader.string("incidentType"),
            severity: Int(try reader.integer("severity")),
            category: try reader.string("category"),
            tactics: try reader.strings("tactics"),
            techniques: try reader.strings("techniques"),
            hostName: hostName,
            attributes: try reader.attributes("attributes"),
            count: try reader.integer("count"),
            firstSeen: try reader.time("firstSeen"),
            lastSeen: try reader.time("lastSeen"),
            version: try reader.integer("version"),
            agentId: try reader.string("agentId"),
            triggerEvents: events,
            ruleAuthor: try reader.optionalString("ruleAuthor"),
            ruleSource: try reader.optionalString("ruleSource")
        )
    }

    /// An event as ``ExecEvents/ExecEvent/writeJSON(to:)`` wrote it. `ExecEvent(json:)` derives
    /// `swParam` and `procName` from `args` when they are absent, as normalization would; an event
    /// written without them had none, so they are left out again.
    private static func triggerEvent(
        _ json: JSONValue,
        index: Int,
        hostName: String
    ) throws(IncidentJSONError) -> ExecEvent {
        var event: ExecEvent
        do {
            event = try ExecEvent(json: json, defaultHostName: hostName)
        } catch {
            throw IncidentJSONError(field: "triggerEvents[\(index)]", reason: "\(error)")
        }
        if json["swParam"] == nil { event.swParam = nil }
        if json["procName"] == nil { event.procName = nil }
        return event
    }
}

/// Typed access to the members of an incident object, with errors naming the field.
private struct IncidentFields {
    let json: JSONValue

    func member(_ name: String) throws(IncidentJSONError) -> JSONValue {
        guard let value = json[name] else { throw IncidentJSONError(field: name, reason: "missing") }
        return value
    }

    func string(_ name: String) throws(IncidentJSONError) -> String {
        guard case .string(let value) = try member(name) else {
            throw IncidentJSONError(field: name, reason: "expected a string")
        }
        return value
    }

    /// A string member that may be absent (or null).
    func optionalString(_ name: String) throws(IncidentJSONError) -> String? {
        switch json[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw IncidentJSONError(field: name, reason: "expected a string")
        }
    }

    func integer(_ name: String) throws(IncidentJSONError) -> Int64 {
        guard case .integer(let value) = try member(name) else {
            throw IncidentJSONError(field: name, reason: "expected an integer")
        }
        return value
    }

    func array(_ name: String) throws(IncidentJSONError) -> [JSONValue] {
        guard case .array(let elements) = try member(name) else {
            throw IncidentJSONError(field: name, reason: "expected an array")
        }
        return elements
    }

    func strings(_ name: String) throws(IncidentJSONError) -> [String] {
        var result: [String] = []
        for element in try array(name) {
            guard case .string(let value) = element else {
                throw IncidentJSONError(field: name, reason: "expected an array of strings")
            }
            result.append(value)
        }
        return result
    }

    func time(_ name: String) throws(IncidentJSONError) -> EventTime {
        let text = try string(name)
        guard let time = EventTime(rfc3339: text) else {
            throw IncidentJSONError(
                field: name,
                reason:
                    "not an RFC 3339 time from 1970 to 9999: \"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
            )
        }
        return time
    }

    func attributes(_ name: String) throws(IncidentJSONError) -> [IncidentAttribute] {
        guard case .object(let members) = try member(name) else {
            throw IncidentJSONError(field: name, reason: "expected an object")
        }
        var attributes: [IncidentAttribute] = []
        for (key, value) in members {
            switch value {
            case .string(let text): attributes.append(IncidentAttribute(name: key, value: .string(text)))
            case .integer(let number): attributes.append(IncidentAttribute(name: key, value: .integer(number)))
            default: throw IncidentJSONError(field: "\(name).\(key)", reason: "expected a string or an integer")
            }
        }
        return attributes
    }
}
