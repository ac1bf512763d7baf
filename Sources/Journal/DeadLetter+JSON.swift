import ExecEvents

extension DeadLetter {
    /// The dead letter as one line of JSON (without the newline): `incidentId`, `ruleId`,
    /// `version`, `kind`, `status`, `reason`, `refusedAt`, `enqueuedAt` (RFC 3339 UTC), and the
    /// refused `incident` exactly as stored.
    public var jsonLine: String {
        var json = JSONWriter(capacity: self.json.utf8.count + 256)
        json.beginObject()
        json.key("incidentId")
        json.string(incidentId.description)
        json.key("ruleId")
        json.string(ruleId)
        json.key("version")
        json.integer(version)
        json.key("kind")
        json.string(kind.outboxName)
        json.key("status")
        json.integer(Int64(status))
        json.key("reason")
        json.string(reason)
        json.key("refusedAt")
        json.string(refusedAt.rfc3339)
        json.key("enqueuedAt")
        json.string(enqueuedAt.rfc3339)
        json.key("incident")
        // Written by the journal from Incident.writeJSON, so valid JSON; anything else goes as a string.
        if (try? JSONValue.parse(self.json)) != nil {
            json.raw(Array(self.json.utf8))
        } else {
            json.string(self.json)
        }
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
