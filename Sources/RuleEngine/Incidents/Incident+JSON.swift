import ExecEvents

extension Incident {
    /// Writes the incident as one JSON object with the fields of DESIGN.md, in this order:
    /// incidentId, ruleId, ruleName, incidentType, severity, category, tactics, techniques, hostName,
    /// attributes, count, firstSeen, lastSeen (RFC 3339 UTC with milliseconds), version, agentId,
    /// triggerEvents, then ruleAuthor and ruleSource when the incident has them (left out when nil).
    public func writeJSON(to json: inout JSONWriter) {
        json.beginObject()
        json.key("incidentId")
        json.string(incidentId.description)
        json.key("ruleId")
        json.string(ruleId)
        json.key("ruleName")
        json.string(ruleName)
        json.key("incidentType")
        json.string(incidentType)
        json.key("severity")
        json.integer(Int64(severity))
        json.key("category")
        json.string(category)
        json.key("tactics")
        json.beginArray()
        for tactic in tactics { json.string(tactic) }
        json.endArray()
        json.key("techniques")
        json.beginArray()
        for technique in techniques { json.string(technique) }
        json.endArray()
        json.key("hostName")
        json.string(hostName)
        json.key("attributes")
        json.beginObject()
        for attribute in attributes {
            json.key(attribute.name)
            json.value(attribute.value)
        }
        json.endObject()
        json.key("count")
        json.integer(count)
        json.key("firstSeen")
        writeTime(firstSeen, to: &json)
        json.key("lastSeen")
        writeTime(lastSeen, to: &json)
        json.key("version")
        json.integer(version)
        json.key("agentId")
        json.string(agentId)
        json.key("triggerEvents")
        json.beginArray()
        for event in triggerEvents { event.writeJSON(to: &json) }
        json.endArray()
        if let ruleAuthor {
            json.key("ruleAuthor")
            json.string(ruleAuthor)
        }
        if let ruleSource {
            json.key("ruleSource")
            json.string(ruleSource)
        }
        json.endObject()
    }

    /// The incident as one line of JSON (without the newline).
    public var jsonLine: String {
        var json = JSONWriter(capacity: 1024)
        writeJSON(to: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    private func writeTime(_ time: EventTime, to json: inout JSONWriter) {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(26)
        time.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        json.raw(bytes)
    }
}
