import CollectorStorage
import ExecEvents
import RuleEngine

/// The reply to an accepted ingest request:
/// `{"accepted":N,"created":a,"updated":b,"unchanged":c,"incidents":[{"incidentId":"…","version":V,"outcome":"created"}]}`,
/// with one entry per incident in the order sent.
struct IngestReply {
    var incidents: [Incident]
    var outcomes: [UpsertOutcome]

    var json: [UInt8] {
        var json = JSONWriter(capacity: 96 + incidents.count * 80)
        json.beginObject()
        json.key("accepted")
        json.integer(Int64(incidents.count))
        for outcome in [UpsertOutcome.created, .updated, .unchanged] {
            json.key(outcome.rawValue)
            json.integer(Int64(outcomes.count(where: { $0 == outcome })))
        }
        json.key("incidents")
        json.beginArray()
        for (incident, outcome) in zip(incidents, outcomes) {
            json.beginObject()
            json.key("incidentId")
            json.string(incident.incidentId.description)
            json.key("version")
            json.integer(incident.version)
            json.key("outcome")
            json.string(outcome.rawValue)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }
}
