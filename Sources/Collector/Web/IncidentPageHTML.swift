import CollectorStorage
import ExecEvents
import RuleEngine

/// The web page `GET /`: a filter form (host, rule ID, since), two SVG charts of new incidents
/// over time (by rule, by host), the incidents in the order asked (newest last seen, or highest
/// severity, first: the column headers link to both) with severity, ATT&CK techniques, the rule's
/// author and a link to its source, and a link to the next page. Each rule name links to the
/// incident's own page. No script; every value is escaped, since most of them come from the
/// hosts watched (swParam is whatever an attacker typed).
enum IncidentPageHTML {
    static let contentSecurityPolicy = PageLayout.contentSecurityPolicy

    /// The charts of the page, by rule and by host.
    struct Charts: Sendable {
        var byRule: IncidentChart
        var byHost: IncidentChart
    }

    static func render(_ page: IncidentPage, charts: Charts?, request: IncidentListRequest) -> [UInt8] {
        var html = HTMLText(capacity: 8192 + page.incidents.count * 768)
        PageLayout.head(title: "incidents", into: &html)
        html.markup("<h1>Incidents</h1>\n<form method=\"get\" action=\"/\">")
        html.markup("<label>Host <input name=\"hostName\" value=\"")
        html.text(request.hostName ?? "")
        html.markup("\"></label><label>Rule ID <input name=\"ruleId\" value=\"")
        html.text(request.ruleId ?? "")
        html.markup("\"></label><label>Since <input name=\"since\" placeholder=\"1h, 2d or RFC 3339\" value=\"")
        html.text(request.since ?? "")
        html.markup("\"></label>")
        if request.sort != .lastSeen {
            html.markup("<input type=\"hidden\" name=\"sort\" value=\"")
            html.text(request.sort.rawValue)
            html.markup("\">")
        }
        html.markup("<button type=\"submit\">Filter</button> <a href=\"/\">Clear</a></form>\n")
        if let charts {
            html.markup("<div class=\"charts\">\n")
            IncidentChartSVG.render(charts.byRule, caption: caption("by rule", charts.byRule.query), into: &html)
            IncidentChartSVG.render(charts.byHost, caption: caption("by host", charts.byHost.query), into: &html)
            html.markup("</div>\n")
        }
        html.markup("<table><thead><tr>")
        sortHeader("Severity", sort: .severity, request: request, into: &html)
        html.markup("<th>Rule</th><th>ATT&amp;CK</th><th>Host</th><th>User</th><th>procName</th><th>swParam</th>")
        html.markup("<th>Count</th><th>First seen</th>")
        sortHeader("Last seen", sort: .lastSeen, request: request, into: &html)
        html.markup("</tr></thead><tbody>\n")
        if page.incidents.isEmpty {
            html.markup("<tr><td colspan=\"10\">No incidents.</td></tr>\n")
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

    /// How many buckets the charts have, and the fewest milliseconds one covers.
    static let chartBuckets = 24
    static let shortestBucketMilliseconds: Int64 = 60_000
    /// The range the charts cover when the request has no `since`: the last day.
    static let defaultChartMilliseconds: Int64 = 86_400_000

    /// The chart queries of a request: from `since` (else a day ago) to now, in ``chartBuckets``
    /// buckets, with the request's host and rule filters.
    static func chartQueries(
        for request: IncidentListRequest,
        now: EventTime
    ) -> (IncidentChartQuery, IncidentChartQuery) {
        let end = now.millisecondsSinceEpoch + 1
        let start = min(request.sinceTime?.millisecondsSinceEpoch ?? (end - defaultChartMilliseconds), end - 1)
        let buckets = Int64(chartBuckets)
        let width = max(shortestBucketMilliseconds, (end - start + buckets - 1) / buckets)
        let from = EventTime(millisecondsSinceEpoch: max(0, end - width * buckets))
        func query(_ series: IncidentChartQuery.Series) -> IncidentChartQuery {
            IncidentChartQuery(
                series: series,
                start: from,
                bucketMilliseconds: width,
                buckets: chartBuckets,
                hostName: request.hostName,
                ruleId: request.ruleId
            )
        }
        return (query(.rule), query(.host))
    }

    private static func caption(_ what: String, _ query: IncidentChartQuery) -> String {
        let minutes = query.bucketMilliseconds / 60_000
        let bucket = minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes) min"
        return "New incidents \(what), per \(bucket)"
    }

    private static func sortHeader(
        _ title: StaticString,
        sort: IncidentSort,
        request: IncidentListRequest,
        into html: inout HTMLText
    ) {
        html.markup(request.sort == sort ? "<th aria-sort=\"descending\">" : "<th>")
        html.markup("<a href=\"/?")
        html.text(request.queryString(sortedBy: sort))
        html.markup("\">")
        html.markup(title)
        if request.sort == sort { html.markup(" ▼") }
        html.markup("</a></th>")
    }

    private static func row(_ incident: Incident, into html: inout HTMLText) {
        html.markup("<tr data-incident-id=\"")
        html.text(incident.incidentId.description)
        html.markup("\">")
        PageLayout.severityCell(incident.severity, into: &html)
        html.markup("<td><a href=\"/incidents/")
        html.text(incident.incidentId.description)
        html.markup("\">")
        html.text(incident.ruleName)
        html.markup("</a><br><span class=\"rule\">")
        html.text(incident.ruleId)
        html.markup("</span>")
        PageLayout.provenance(author: incident.ruleAuthor, source: incident.ruleSource, into: &html)
        html.markup("</td><td>")
        PageLayout.attack(techniques: incident.techniques, tactics: incident.tactics, into: &html)
        html.markup("</td><td>")
        html.text(incident.hostName)
        html.markup("</td><td>")
        html.text(PageLayout.attributeText(incident.attribute("user")))
        html.markup("</td><td>")
        html.text(PageLayout.attributeText(incident.attribute("procName")))
        html.markup("</td><td><code>")
        html.text(PageLayout.attributeText(incident.attribute("swParam")))
        html.markup("</code></td><td class=\"num\">")
        html.text(String(incident.count))
        html.markup("</td><td>")
        html.text(incident.firstSeen.rfc3339)
        html.markup("</td><td>")
        html.text(incident.lastSeen.rfc3339)
        html.markup("</td></tr>\n")
    }
}
