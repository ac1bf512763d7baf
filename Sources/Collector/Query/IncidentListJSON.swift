import CollectorStorage
import ExecEvents

/// The body of `GET /api/v1/incidents`: `{"incidents":[<incident JSON>…],"nextCursor":"…"|null}`,
/// each incident exactly as `Incident.jsonLine` writes it, newest first.
enum IncidentListJSON {
    static func render(_ page: IncidentPage) -> [UInt8] {
        var json = JSONWriter(capacity: 64 + page.incidents.count * 1024)
        json.beginObject()
        json.key("incidents")
        json.beginArray()
        for collected in page.incidents {
            collected.incident.writeJSON(to: &json)
        }
        json.endArray()
        json.key("nextCursor")
        if let cursor = page.nextCursor {
            json.string(cursor.description)
        } else {
            json.null()
        }
        json.endObject()
        return json.bytes
    }
}
