import NIOSSL

/// What the forwarder proves and trusts, read from the configured files once, at start-up.
struct ForwarderCredentials: Sendable {
    /// The CA certificates of `forward.caFile`; nil: the system trust store.
    var trustedCAs: [NIOSSLCertificate]?
    var caFile: String?
    /// The client certificate chain (leaf first) and its key, for mutual TLS.
    var clientCertificateChain: [NIOSSLCertificate] = []
    var clientKey: NIOSSLPrivateKey?
    /// The bearer token, without surrounding white space.
    var token: String?

    var presentsClientCertificate: Bool { clientKey != nil }

    init(configuration: ForwardConfiguration) throws(ForwarderSetupError) {
        if let path = configuration.caFile {
            trustedCAs = try Self.certificates(ConfiguredFile(setting: "forward.caFile", path: path))
            caFile = path
        }
        switch (configuration.certFile, configuration.keyFile) {
        case (nil, nil):
            break
        case (let certFile?, let keyFile?):
            clientCertificateChain = try Self.certificates(ConfiguredFile(setting: "forward.certFile", path: certFile))
            clientKey = try Self.privateKey(ConfiguredFile(setting: "forward.keyFile", path: keyFile))
        case (let certFile, let keyFile):
            throw .incompleteClientCertificate(certFile: certFile, keyFile: keyFile)
        }
        if let path = configuration.tokenFile {
            token = try Self.token(ConfiguredFile(setting: "forward.tokenFile", path: path))
        }
    }

    /// Every certificate of a PEM file (at least one).
    static func certificates(_ file: ConfiguredFile) throws(ForwarderSetupError) -> [NIOSSLCertificate] {
        let bytes = try file.contents()
        guard bytes.contains(subsequence: Array("-----BEGIN CERTIFICATE-----".utf8)) else {
            throw file.failure(.notPEM(expected: "certificate (no -----BEGIN CERTIFICATE----- block)"))
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw file.failure(.notPEM(expected: "certificate (a CERTIFICATE block does not decode: \(error))"))
        }
        guard !certificates.isEmpty else { throw file.failure(.notPEM(expected: "certificate")) }
        return certificates
    }

    /// An unencrypted PEM private key (PKCS#8, RSA or EC), in a file that only its owner may read.
    static func privateKey(_ file: ConfiguredFile) throws(ForwarderSetupError) -> NIOSSLPrivateKey {
        let bytes = try file.contents(secret: true)
        if bytes.contains(subsequence: Array("ENCRYPTED".utf8)) {
            throw file.failure(.notPEM(expected: "unencrypted private key (this one is encrypted)"))
        }
        guard bytes.contains(subsequence: Array("-----BEGIN ".utf8)),
            bytes.contains(subsequence: Array("PRIVATE KEY-----".utf8))
        else {
            throw file.failure(.notPEM(expected: "private key (no -----BEGIN … PRIVATE KEY----- block)"))
        }
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw file.failure(.notPEM(expected: "private key (the PRIVATE KEY block does not decode)"))
        }
    }

    /// The token of a file that only its owner may read.
    static func token(_ file: ConfiguredFile) throws(ForwarderSetupError) -> String {
        let bytes = try file.contents(secret: true)
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { throw file.failure(.empty) }
        let token = bytes[first...last]
        guard token.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { throw file.failure(.malformedToken) }
        return String(decoding: token, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= count else { return subsequence.isEmpty }
        for start in 0...(count - subsequence.count) where self[start] == subsequence[0] {
            if self[start..<(start + subsequence.count)].elementsEqual(subsequence) { return true }
        }
        return false
    }
}
