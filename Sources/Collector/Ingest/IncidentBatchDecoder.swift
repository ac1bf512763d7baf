import ExecEvents
import RuleEngine

/// Why an ingest body was refused (a 400): the reason names the incident's index and the field.
public struct IngestRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// The incidents of an ingest body, and the names of the incident fields it held that this
/// collector does not know (ignored, never stored).
public struct IncidentBatch: Sendable, Equatable {
    public var incidents: [Incident]
    public var unknownFields: Set<String>

    public init(incidents: [Incident], unknownFields: Set<String> = []) {
        self.incidents = incidents
        self.unknownFields = unknownFields
    }
}

/// Turns an ingest body (a JSON array of incidents as `Incident.jsonLine` writes them) into
/// incidents, checking every one before any is stored.
///
/// Refused: text that is not JSON (with the parser's position), anything but an array, an element
/// that is not an incident (missing or mistyped fields, as `Incident(json:)` names them), strings
/// (and keys) longer than `maxStringBytes`, a `version` or `count` below 1, an empty `ruleId` or
/// `hostName`. Fields DESIGN.md does not define (a newer agent's) are not refused: they are
/// left out of the incident and named in ``IncidentBatch/unknownFields``.
public struct IncidentBatchDecoder: Sendable {
    /// The fields of an incident object.
    public static let fields: Set<String> = [
        "incidentId", "ruleId", "ruleName", "incidentType", "severity", "category", "tactics", "techniques",
        "hostName", "attributes", "count", "firstSeen", "lastSeen", "version", "agentId", "triggerEvents",
        "ruleAuthor", "ruleSource",
    ]

    public var maxStringBytes: Int

    public init(maxStringBytes: Int) {
        self.maxStringBytes = maxStringBytes
    }

    public func decode(_ body: [UInt8]) throws(IngestRejection) -> IncidentBatch {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes: body)
        } catch {
            throw IngestRejection("body is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        guard case .array(let elements) = document else {
            throw IngestRejection("body must be a JSON array of incidents, got \(Self.kind(of: document))")
        }
        var batch = IncidentBatch(incidents: [])
        batch.incidents.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do {
                batch.incidents.append(try decodeIncident(element, unknownFields: &batch.unknownFields))
            } catch {
                throw IngestRejection("incident \(index): \(error.reason)")
            }
        }
        return batch
    }

    private func decodeIncident(
        _ json: JSONValue,
        unknownFields: inout Set<String>
    ) throws(IngestRejection) -> Incident {
        guard case .object(let members) = json else {
            throw IngestRejection("expected an incident object, got \(Self.kind(of: json))")
        }
        for (name, _) in members where !Self.fields.contains(name) {
            unknownFields.insert(Self.shortened(name))
        }
        for (name, value) in members {
            try checkStrings(value, path: name)
        }
        let incident: Incident
        do {
            incident = try Incident(json: json)
        } catch {
            throw IngestRejection(error.description)
        }
        if incident.version < 1 { throw IngestRejection("field \"version\": must be at least 1") }
        if incident.count < 1 { throw IngestRejection("field \"count\": must be at least 1") }
        if incident.ruleId.isEmpty { throw IngestRejection("field \"ruleId\": must not be empty") }
        if incident.hostName.isEmpty { throw IngestRejection("field \"hostName\": must not be empty") }
        return incident
    }

    /// Refuses strings and keys longer than `maxStringBytes` anywhere under `path`
    /// (`attributes.swParam`, `triggerEvents[0].args[2]`).
    private func checkStrings(_ value: JSONValue, path: String) throws(IngestRejection) {
        switch value {
        case .string(let text):
            let length = text.utf8.count
            if length > maxStringBytes {
                throw IngestRejection(
                    "field \"\(path)\": string of \(length) bytes is longer than limits.maxStringBytes (\(maxStringBytes))"
                )
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                try checkStrings(element, path: "\(path)[\(index)]")
            }
        case .object(let members):
            for (key, member) in members {
                let length = key.utf8.count
                if length > maxStringBytes {
                    throw IngestRejection(
                        "field \"\(path)\": key of \(length) bytes is longer than limits.maxStringBytes (\(maxStringBytes))"
                    )
                }
                try checkStrings(member, path: "\(path).\(Self.shortened(key))")
            }
        case .null, .bool, .integer, .number:
            break
        }
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A name as it may appear in a reply or a log line: at most 100 characters.
    static func shortened(_ name: String) -> String {
        name.count > 100 ? String(name.prefix(100)) + "…" : name
    }
}
