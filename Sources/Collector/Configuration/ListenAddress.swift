import ConfigurationFiles

/// The `host:port` the server listens on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[::1]:8443` for IPv6).
    public init(parsing text: String) throws(SettingError) {
        let (host, port) = try SettingValue.hostAndPort(text)
        self.init(host: host, port: port)
    }

    /// `127.0.0.1:8443`, `[::1]:8443`.
    public var description: String {
        host.contains(Character(":")) ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether only this machine can connect: `localhost`, `127.0.0.0/8` or `::1`.
    public var isLoopback: Bool { SettingValue.isLoopback(host: host) }
}
