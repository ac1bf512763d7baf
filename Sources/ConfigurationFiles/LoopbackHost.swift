extension SettingValue {
    /// Whether `host` (a name or address as a setting gives it, IPv6 without brackets) reaches this
    /// machine only: `localhost`, `127.0.0.0/8` or `::1`. Plain HTTP is allowed there alone.
    public static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }
}
