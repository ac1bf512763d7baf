import CollectorStorage
import ExecEvents
import RuleEngine

/// The web page `GET /`: a filter form (host, rule ID, since), the incidents newest first (rule ID
/// and name, host, user, procName, swParam, count, first and last seen), and a link to the next
/// page. No script; every value is escaped, since most of them come from the hosts watched
/// (swParam is whatever an attacker typed).
enum IncidentPageHTML {
    /// Keeps the page inert: no script, no plugins, no framing, forms only to this server.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static func render(_ page: IncidentPage, request: IncidentListRequest) -> [UInt8] {
        var html = HTMLText(capacity: 4096 + page.incidents.count * 512)
        html.markup(
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
            <title>execwatch-collector: incidents</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;width:100%;font-size:.9em}
            th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
            th{background:#f3f3f3}
            td.num{text-align:right}
            code{white-space:pre-wrap;word-break:break-all}
            form{margin-bottom:1em}
            label{margin-right:1em}
            .rule{font-size:.85em;color:#666}
            </style></head><body>
            <h1>Incidents</h1>
            <form method="get" action="/">
            """
        )
        html.markup("<label>Host <input name=\"hostName\" value=\"")
        html.text(request.hostName ?? "")
        html.markup("\"></label><label>Rule ID <input name=\"ruleId\" value=\"")
        html.text(request.ruleId ?? "")
        html.markup("\"></label><label>Since <input name=\"since\" placeholder=\"1h, 2d or RFC 3339\" value=\"")
        html.text(request.since ?? "")
        html.markup("\"></label><button type=\"submit\">Filter</button> <a href=\"/\">Clear</a></form>\n")
        html.markup(
            """
            <table><thead><tr><th>Rule</th><th>Host</th><th>User</th><th>procName</th><th>swParam</th>\
            <th>Count</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>

            """
        )
        if page.incidents.isEmpty {
            html.markup("<tr><td colspan=\"8\">No incidents.</td></tr>\n")
        }
        for collected in page.incidents {
            row(collected.incident, into: &html)
        }
        html.markup("</tbody></table>\n")
        if let next = page.nextCursor {
            html.markup("<p><a rel=\"next\" href=\"/?")
            html.text(request.queryString(cursor: next))
            html.markup("\">Next page</a></p>\n")
        }
        html.markup("</body></html>\n")
        return html.bytes
    }

    private static func row(_ incident: Incident, into html: inout HTMLText) {
        html.markup("<tr><td>")
        html.text(incident.ruleName)
        html.markup("<br><span class=\"rule\">")
        html.text(incident.ruleId)
        html.markup("</span></td><td>")
        html.text(incident.hostName)
        html.markup("</td><td>")
        html.text(attribute("user", of: incident))
        html.markup("</td><td>")
        html.text(attribute("procName", of: incident))
        html.markup("</td><td><code>")
        html.text(attribute("swParam", of: incident))
        html.markup("</code></td><td class=\"num\">")
        html.text(String(incident.count))
        html.markup("</td><td>")
        html.text(incident.firstSeen.rfc3339)
        html.markup("</td><td>")
        html.text(incident.lastSeen.rfc3339)
        html.markup("</td></tr>\n")
    }

    private static func attribute(_ name: String, of incident: Incident) -> String {
        switch incident.attribute(name) {
        case .string(let text): text
        case .integer(let number): String(number)
        case nil: "–"
        }
    }
}
