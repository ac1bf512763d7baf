import CollectorStorage
import ExecEvents

/// An ``CollectorStorage/IncidentChart`` as an inline SVG figure: one line per series (its name
/// as the line's `<title>`), the range's start and end under the axis, the highest count beside
/// it, and a legend. Integer coordinates only; every key is escaped.
enum IncidentChartSVG {
    /// Distinct colours for the named series; "others" is grey.
    static let colours: [StaticString] = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
        "#7f7f7f",
    ]
    static let othersColour: StaticString = "#aaaaaa"

    static let width = 560
    static let height = 200
    private static let left = 40
    private static let right = 10
    private static let top = 10
    private static let bottom = 30

    static func render(_ chart: IncidentChart, caption: String, into html: inout HTMLText) {
        let query = chart.query
        html.markup("<figure class=\"chart\" data-series-of=\"")
        html.text(query.series.rawValue)
        html.markup("\"><figcaption>")
        html.text(caption)
        html.markup(
            "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"560\" height=\"200\" "
        )
        html.markup("viewBox=\"0 0 560 200\"><title>")
        html.text(caption)
        html.markup("</title>\n")
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let highest = max(1, chart.series.flatMap(\.counts).max() ?? 0)
        // Axes.
        html.markup("<g stroke=\"#888\" stroke-width=\"1\">")
        line(x1: left, y1: top, x2: left, y2: top + plotHeight, into: &html)
        line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, into: &html)
        html.markup("</g>\n<g font-size=\"10\" fill=\"#444\">")
        label(String(highest), x: left - 4, y: top + 8, anchor: "end", into: &html)
        label("0", x: left - 4, y: top + plotHeight, anchor: "end", into: &html)
        label(timeLabel(query.start), x: left, y: height - 8, anchor: "start", into: &html)
        label(
            timeLabel(EventTime(millisecondsSinceEpoch: query.endMilliseconds)),
            x: left + plotWidth,
            y: height - 8,
            anchor: "end",
            into: &html
        )
        html.markup("</g>\n")
        let steps = max(1, query.buckets - 1)
        for (index, series) in chart.series.enumerated() {
            html.markup("<g class=\"series\" data-key=\"")
            html.text(series.key ?? "")
            html.markup("\"><title>")
            html.text(name(of: series))
            html.markup("</title><polyline fill=\"none\" stroke-width=\"2\" stroke=\"")
            html.markup(colour(series, index))
            html.markup("\" points=\"")
            for (bucket, count) in series.counts.enumerated() {
                if bucket > 0 { html.markup(" ") }
                let x = left + bucket * plotWidth / steps
                let y = top + plotHeight - count * plotHeight / highest
                html.text("\(x),\(y)")
            }
            html.markup("\"/></g>\n")
        }
        html.markup("</svg>\n")
        if chart.series.isEmpty {
            html.markup("<p class=\"rule\">No incidents first seen in this range.</p>")
        } else {
            html.markup("<ul class=\"legend\">")
            for (index, series) in chart.series.enumerated() {
                html.markup("<li><span class=\"swatch\" style=\"background:")
                html.markup(colour(series, index))
                html.markup("\"></span>")
                html.text(name(of: series))
                html.markup(" (")
                html.text(String(series.total))
                html.markup(")</li>")
            }
            html.markup("</ul>")
        }
        html.markup("</figure>\n")
    }

    private static func name(of series: IncidentChartSeries) -> String {
        series.key ?? "all others"
    }

    private static func colour(_ series: IncidentChartSeries, _ index: Int) -> StaticString {
        series.key == nil ? othersColour : colours[index % colours.count]
    }

    /// `2026-11-28T10:00Z`: minutes are enough under a chart.
    private static func timeLabel(_ time: EventTime) -> String {
        let text = time.rfc3339
        return String(text.prefix(16)) + "Z"
    }

    private static func line(x1: Int, y1: Int, x2: Int, y2: Int, into html: inout HTMLText) {
        html.markup("<line x1=\"")
        html.text(String(x1))
        html.markup("\" y1=\"")
        html.text(String(y1))
        html.markup("\" x2=\"")
        html.text(String(x2))
        html.markup("\" y2=\"")
        html.text(String(y2))
        html.markup("\"/>")
    }

    private static func label(_ text: String, x: Int, y: Int, anchor: StaticString, into html: inout HTMLText) {
        html.markup("<text x=\"")
        html.text(String(x))
        html.markup("\" y=\"")
        html.text(String(y))
        html.markup("\" text-anchor=\"")
        html.markup(anchor)
        html.markup("\">")
        html.text(text)
        html.markup("</text>")
    }
}
