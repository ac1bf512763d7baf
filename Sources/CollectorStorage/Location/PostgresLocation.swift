/// A PostgreSQL database, as `postgres://user:password@host:port/database?sslmode=…&schema=…`
/// (also `postgresql://`) names it.
///
/// Query parameters: `sslmode` (`disable`, `prefer` (the default, as libpq), `require` (encrypted,
/// certificate not checked), `verify-ca`, `verify-full`; passed to libpq as is), `sslrootcert`
/// (the CA certificates `verify-ca` and `verify-full` check the server's against; default: the
/// system's) and `schema` (the collector's tables live in that schema, created when missing;
/// default: the user's search_path). The user name, password, database and `sslrootcert` are
/// percent-decoded.
struct PostgresLocation: Equatable, CustomStringConvertible {
    enum TLSMode: String, Equatable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var tlsMode: TLSMode
    /// A file of CA certificates (PEM), when the URL names one (`sslrootcert=`).
    var sslRootCertificate: String?
    /// A plain lower-case identifier (checked), so it needs no quoting anywhere.
    var schema: String?

    /// The URL without the password: for messages and logs.
    let description: String

    init(url: String) throws(CollectorStoreError) {
        let shown = Self.redacting(url)
        func unusable(_ reason: String) -> CollectorStoreError { .unusableLocation(shown, reason: reason) }

        guard let schemeEnd = url.firstRange(of: "://") else { throw unusable("not a URL") }
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw unusable("no database name (…/DATABASE)") }
        let authority = rest[..<slash]
        database = try Self.decode(rest[rest.index(after: slash)...], shown)
        guard !database.isEmpty else { throw unusable("no database name (…/DATABASE)") }

        var hostPort = authority
        username = ""
        password = nil
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try Self.decode(userInfo[..<colon], shown)
                password = try Self.decode(userInfo[userInfo.index(after: colon)...], shown)
            } else {
                username = try Self.decode(userInfo, shown)
            }
        }
        guard !username.isEmpty else { throw unusable("no user name (postgres://USER:PASSWORD@…)") }
        (host, port) = try Self.hostAndPort(hostPort, shown)

        tlsMode = .prefer
        sslRootCertificate = nil
        schema = nil
        for parameter in query.split(separator: "&") where !parameter.isEmpty {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = try Self.decode(pair.count > 1 ? pair[1] : "", shown)
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw unusable("sslmode \"\(value)\" is not disable, prefer, require, verify-ca or verify-full")
                }
                tlsMode = mode
            case "sslrootcert":
                guard !value.isEmpty else { throw unusable("sslrootcert is empty (a file of CA certificates)") }
                sslRootCertificate = value
            case "schema":
                guard Self.isPlainIdentifier(value) else {
                    throw unusable("schema \"\(value)\" is not a lower-case identifier ([a-z_][a-z0-9_]*, at most 63)")
                }
                schema = value
            default:
                throw unusable("unknown parameter \"\(name)\" (known: sslmode, sslrootcert, schema)")
            }
        }
        description = shown
    }

    /// The URL with its password replaced by `***` (the whole text when it is not a URL). Errs on
    /// the side of hiding: everything from the first `:` after the scheme to the last `@` goes,
    /// even when the password holds a `/` or `?` that should have been percent-encoded.
    static func redacting(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        guard let at = afterScheme.lastIndex(of: "@"), let colon = afterScheme[..<at].firstIndex(of: ":") else {
            return url
        }
        return String(url[...colon]) + "***" + String(url[at...])
    }

    private static func hostAndPort(_ text: Substring, _ shown: String) throws(CollectorStoreError) -> (String, Int) {
        var host = text
        var portText: Substring?
        if host.hasPrefix("[") {
            // [IPv6]:port
            guard let close = host.firstIndex(of: "]") else {
                throw .unusableLocation(shown, reason: "unclosed [ in the host")
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw .unusableLocation(shown, reason: "unexpected text after the host: \"\(after)\"")
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw .unusableLocation(shown, reason: "no host") }
        guard let portText else { return (String(host), 5432) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw .unusableLocation(shown, reason: "port \"\(portText)\" is not a number from 1 to 65535")
        }
        return (String(host), port)
    }

    private static func isPlainIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 63, first == UInt8(ascii: "_") || (0x61...0x7A).contains(first)
        else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
    }

    /// Percent-decoding (`%40` → `@`), UTF-8.
    private static func decode(_ text: Substring, _ shown: String) throws(CollectorStoreError) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .unusableLocation(shown, reason: "a % not followed by two hex digits")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .unusableLocation(shown, reason: "percent-encoded bytes that are not UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }
}
