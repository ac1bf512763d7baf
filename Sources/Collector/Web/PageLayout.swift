import ExecEvents

/// What every page of the collector shares: the policy that keeps it inert, its head and style,
/// and how values that come from the hosts (rule metadata included) are shown.
enum PageLayout {
    /// Keeps pages inert: no script (`default-src 'none'`), no plugins, no framing, forms only to
    /// this server; styles only inline (the charts are inline SVG, which loads nothing).
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    /// `<!DOCTYPE html>` up to the open `<body>`, with the title (escaped) and the shared style.
    static func head(title: String, into html: inout HTMLText) {
        html.markup(
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
            <title>execwatch-collector: 
            """
        )
        html.text(title)
        html.markup(
            """
            </title>
            <style>
            body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;width:100%;font-size:.9em}
            th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
            th{background:#f3f3f3}
            th a{color:inherit}
            td.num{text-align:right}
            code{white-space:pre-wrap;word-break:break-all}
            form{margin-bottom:1em}
            label{margin-right:1em}
            .rule{font-size:.85em;color:#666}
            .sev{font-weight:bold;text-align:center;white-space:nowrap}
            .sev-high{background:#f8d0d0}.sev-medium{background:#fbe7c0}.sev-low{background:#e4efd9}
            .charts{display:flex;flex-wrap:wrap;gap:1.5em;margin:1em 0}
            figure{margin:0}figcaption{font-weight:bold;margin-bottom:.3em}
            ul.legend{list-style:none;padding:0;margin:.3em 0;font-size:.8em;columns:2}
            .swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em}
            dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
            dl.facts dt{font-weight:bold}dl.facts dd{margin:0}
            ol.argv{margin:0;padding-left:2em}
            </style></head><body>

            """
        )
    }

    /// A severity cell: the number, coloured by FortiSIEM's bands (HIGH 9–10, MEDIUM 5–8, LOW 1–4).
    static func severityCell(_ severity: Int, into html: inout HTMLText) {
        switch severity {
        case 9...: html.markup("<td class=\"sev sev-high\" title=\"high\">")
        case 5...8: html.markup("<td class=\"sev sev-medium\" title=\"medium\">")
        default: html.markup("<td class=\"sev sev-low\" title=\"low\">")
        }
        html.text(String(severity))
        html.markup("</td>")
    }

    /// ATT&CK techniques, each a link to its page when it is a technique ID (`T1059`,
    /// `T1059.004`), else shown as text; then the tactics.
    static func attack(techniques: [String], tactics: [String], into html: inout HTMLText) {
        for (index, technique) in techniques.enumerated() {
            if index > 0 { html.markup(" ") }
            if let path = techniquePath(technique) {
                html.markup("<a href=\"https://attack.mitre.org/techniques/")
                html.text(path)
                html.markup("/\" rel=\"noopener noreferrer\">")
                html.text(technique)
                html.markup("</a>")
            } else {
                html.text(technique)
            }
        }
        if !tactics.isEmpty {
            html.markup("<br><span class=\"rule\">")
            html.text(tactics.joined(separator: ", "))
            html.markup("</span>")
        }
    }

    /// `T1059.004` → `T1059/004`; nil unless `T` + 4 digits, optionally `.` + 3 digits.
    static func techniquePath(_ technique: String) -> String? {
        let bytes = Array(technique.utf8)
        func digits(_ range: Range<Int>) -> Bool {
            range.allSatisfy { bytes[$0] >= UInt8(ascii: "0") && bytes[$0] <= UInt8(ascii: "9") }
        }
        guard bytes.count == 5 || bytes.count == 9, bytes[0] == UInt8(ascii: "T"), digits(1..<5) else { return nil }
        if bytes.count == 5 { return technique }
        guard bytes[5] == UInt8(ascii: "."), digits(6..<9) else { return nil }
        return String(decoding: bytes[0..<5], as: UTF8.self) + "/" + String(decoding: bytes[6..<9], as: UTF8.self)
    }

    /// The rule's author and source, as far as the incident has them: the source is a link only
    /// when it is an `http:` or `https:` URL; any other text (a file path) is shown as text.
    static func provenance(author: String?, source: String?, into html: inout HTMLText) {
        if let author {
            html.markup("<br><span class=\"rule author\">by ")
            html.text(author)
            html.markup("</span>")
        }
        guard let source else { return }
        if isWebURL(source) {
            html.markup("<br><a class=\"rule source\" rel=\"noopener noreferrer\" href=\"")
            html.text(source)
            html.markup("\">rule source</a>")
        } else {
            html.markup("<br><span class=\"rule source\">source: ")
            html.text(source)
            html.markup("</span>")
        }
    }

    /// True for `http://…` and `https://…` (scheme in any case) without spaces or control
    /// characters: the only texts shown as links.
    static func isWebURL(_ text: String) -> Bool {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://") else { return false }
        return !text.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F }
    }

    /// An incident attribute as text, "–" when absent.
    static func attributeText(_ value: AttributeValue?) -> String {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        case nil: "–"
        }
    }
}
