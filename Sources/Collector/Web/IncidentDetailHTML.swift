import CollectorStorage
import ExecEvents
import RuleEngine

/// The page of one incident, `GET /incidents/<id>`: the rule (name, ID, severity, category,
/// ATT&CK, author, source), the incident (host, attributes, count, times, version, agent, who
/// sent it when) and each trigger event in full: time, user, procName, the full argv (one item
/// per argument), exePath, cwd, the parent (pid, procName, exePath, command line) and the other
/// attributes. Everything is escaped.
enum IncidentDetailHTML {
    static func render(_ collected: CollectedIncident) -> [UInt8] {
        let incident = collected.incident
        var html = HTMLText(capacity: 8192 + incident.triggerEvents.count * 2048)
        PageLayout.head(title: "incident " + incident.incidentId.description, into: &html)
        html.markup("<p><a href=\"/\">← Incidents</a></p>\n<h1>")
        html.text(incident.ruleName)
        html.markup("</h1>\n<dl class=\"facts\">")
        fact("Incident", incident.incidentId.description, into: &html)
        fact("Rule ID", incident.ruleId, into: &html)
        fact("Severity", String(incident.severity), into: &html)
        fact("Category", incident.category, into: &html)
        html.markup("<dt>ATT&amp;CK</dt><dd>")
        PageLayout.attack(techniques: incident.techniques, tactics: incident.tactics, into: &html)
        html.markup("</dd>")
        if incident.ruleAuthor != nil || incident.ruleSource != nil {
            html.markup("<dt>Rule provenance</dt><dd>")
            PageLayout.provenance(author: incident.ruleAuthor, source: incident.ruleSource, into: &html)
            html.markup("</dd>")
        }
        fact("Host", incident.hostName, into: &html)
        for attribute in incident.attributes where attribute.name != "hostName" {
            fact(attribute.name, attribute.value.description, into: &html)
        }
        fact("Count", String(incident.count), into: &html)
        fact("First seen", incident.firstSeen.rfc3339, into: &html)
        fact("Last seen", incident.lastSeen.rfc3339, into: &html)
        fact("Version", String(incident.version), into: &html)
        fact("Agent ID", incident.agentId, into: &html)
        fact("Received from", collected.receivedFrom, into: &html)
        fact("Received at", collected.receivedAt.rfc3339, into: &html)
        html.markup("</dl>\n<h2>Trigger events</h2>\n")
        if incident.triggerEvents.isEmpty {
            html.markup("<p>None were sent.</p>\n")
        }
        for (index, event) in incident.triggerEvents.enumerated() {
            html.markup("<section class=\"event\"><h3>Event ")
            html.text(String(index + 1))
            html.markup("</h3><dl class=\"facts\">")
            fact("Time", event.eventTime.rfc3339, into: &html)
            fact("User", event.user, into: &html)
            fact("procName", event.procName, into: &html)
            html.markup("<dt>argv</dt><dd>")
            if let args = event.args {
                html.markup("<ol class=\"argv\" start=\"0\">")
                for argument in args {
                    html.markup("<li><code>")
                    html.text(String(decoding: argument, as: UTF8.self))
                    html.markup("</code></li>")
                }
                html.markup("</ol>")
            } else {
                html.markup("–")
            }
            html.markup("</dd>")
            fact("swParam", event.swParam, into: &html)
            fact("exePath", event.exePath, into: &html)
            fact("cwd", event.cwd, into: &html)
            fact("procId", event.procId.map { String($0) }, into: &html)
            fact("parentProcId", event.parentProcId.map { String($0) }, into: &html)
            fact("parentProcName", event.parentProcName, into: &html)
            fact("parentExePath", event.parentExePath, into: &html)
            fact("parentCommandLine", event.parentCommandLine, into: &html)
            fact("uid", event.uid.map { String($0) }, into: &html)
            fact("auid", event.auid.map { String($0) }, into: &html)
            fact("loginUser", event.loginUser, into: &html)
            fact("tty", event.tty, into: &html)
            for (name, value) in event.extra.sorted(by: { $0.key < $1.key }) {
                fact(name, value.description, into: &html)
            }
            html.markup("</dl></section>\n")
        }
        html.markup("</body></html>\n")
        return html.bytes
    }

    /// One `<dt>name</dt><dd><code>value</code></dd>`; "–" for a missing value.
    private static func fact(_ name: String, _ value: String?, into html: inout HTMLText) {
        html.markup("<dt>")
        html.text(name)
        html.markup("</dt><dd>")
        if let value {
            html.markup("<code>")
            html.text(value)
            html.markup("</code>")
        } else {
            html.markup("–")
        }
        html.markup("</dd>")
    }
}
