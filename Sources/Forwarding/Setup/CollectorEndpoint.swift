import ConfigurationFiles

/// The collector's address, from `forward.url`: `https://`, or `http://` to a loopback address.
struct CollectorEndpoint: Sendable, Equatable {
    /// The base URL without trailing `/`: `https://collector.example:8443`.
    var baseURL: String
    var usesTLS: Bool
    /// Host name or IP address as written (IPv6 without brackets).
    var host: String
    var port: Int

    /// Where incidents are posted.
    var incidentsURL: String { baseURL + "/api/v1/incidents" }

    /// `host:port`, for messages (`[::1]:8443` for IPv6).
    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    init(url: String) throws(ForwarderSetupError) {
        var base = url.trimmingASCIISpaces
        while base.hasSuffix("/") { base.removeLast() }
        let rest: Substring
        if base.lowercased().hasPrefix("https://") {
            usesTLS = true
            rest = base.dropFirst("https://".count)
        } else if base.lowercased().hasPrefix("http://") {
            usesTLS = false
            rest = base.dropFirst("http://".count)
        } else {
            throw .invalidURL(url, reason: "expected https://host[:port] (or http:// to a loopback address)")
        }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !rest.contains("?"), !rest.contains("#") else {
            throw .invalidURL(url, reason: "a query or fragment is not allowed; give the collector's base URL")
        }
        if let at = authority.lastIndex(of: "@") {
            guard !authority[..<at].isEmpty else { throw .invalidURL(url, reason: "empty user information") }
            throw .invalidURL(url, reason: "credentials in the URL are not allowed; use forward.tokenFile")
        }
        var port = usesTLS ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(url, reason: "unclosed [") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            authority = authority[authority.index(after: close)...]
        } else {
            let name = authority.prefix { $0 != ":" }
            host = String(name)
            authority = authority[name.endIndex...]
        }
        if authority.hasPrefix(":") {
            guard let number = Int(authority.dropFirst()), (1...65535).contains(number) else {
                throw .invalidURL(url, reason: "invalid port \"\(authority.dropFirst())\"")
            }
            port = number
        } else if !authority.isEmpty {
            throw .invalidURL(url, reason: "unexpected \"\(authority)\" after the host")
        }
        guard !host.isEmpty else { throw .invalidURL(url, reason: "no host") }
        // Incidents (command lines) and the bearer token would cross the network in clear; the
        // collector, too, serves plain HTTP on loopback addresses only.
        guard usesTLS || SettingValue.isLoopback(host: host) else {
            throw .invalidURL(
                url,
                reason: "plain http:// is allowed only to a loopback address (127.0.0.0/8, ::1, localhost); "
                    + "use https:// to reach \(host)"
            )
        }
        self.port = port
        self.baseURL = base
    }
}
