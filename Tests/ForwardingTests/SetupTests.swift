import Journal
import Logging
import TestSupport
import Testing

@testable import Forwarding

#if canImport(Glibc)
import Glibc
#endif

@Suite("Setting up: files and URL are checked at start")
struct SetupTests {
    /// An outbox that is never read: these tests only build forwarders.
    struct UnusedOutbox: ForwardOutbox {
        func pendingOutbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry] { [] }
        func acknowledge(seqs: [Int64]) async throws -> Int { 0 }
        func deadLetter(seqs: [Int64], status: Int, reason: String) async throws -> Int { 0 }
    }

    func setupError(_ configuration: ForwardConfiguration) -> ForwarderSetupError? {
        do {
            _ = try IncidentForwarder(
                configuration: configuration,
                outbox: UnusedOutbox(),
                logger: Logger(label: "test")
            )
            return nil
        } catch let error as ForwarderSetupError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func tokenFileReadableByOthersIsRefusedNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("token", "s3cret\n", mode: 0o644)
        var configuration = ForwardConfiguration(url: "https://collector.example:8443")
        configuration.tokenFile = path
        let error = try #require(setupError(configuration))
        #expect(error == .file(setting: "forward.tokenFile", path: path, problem: .readableByOthers(mode: 0o100644)))
        #expect(error.description.contains(path))
        #expect(error.description.contains("readable by group or others"))
        #expect(error.description.contains("0644"))

        chmod(path, 0o640)
        #expect(setupError(configuration) != nil)
        chmod(path, 0o600)
        #expect(setupError(configuration) == nil)
        chmod(path, 0o400)
        #expect(setupError(configuration) == nil)
    }

    @Test func tokenIsTrimmedAndMustBeOneWord() throws {
        let directory = try TemporaryDirectory()
        let good = try directory.write("good", "  abc.DEF-123_x \n")
        #expect(
            try ForwarderCredentials.token(ConfiguredFile(setting: "forward.tokenFile", path: good)) == "abc.DEF-123_x"
        )
        let blank = try directory.write("blank", " \n\n")
        #expect(throws: ForwarderSetupError.file(setting: "forward.tokenFile", path: blank, problem: .empty)) {
            try ForwarderCredentials.token(ConfiguredFile(setting: "forward.tokenFile", path: blank))
        }
        let empty = try directory.write("empty", "")
        #expect(throws: ForwarderSetupError.file(setting: "forward.tokenFile", path: empty, problem: .empty)) {
            try ForwarderCredentials.token(ConfiguredFile(setting: "forward.tokenFile", path: empty))
        }
        let twoWords = try directory.write("two", "abc def\n")
        #expect(
            throws: ForwarderSetupError.file(setting: "forward.tokenFile", path: twoWords, problem: .malformedToken)
        ) {
            try ForwarderCredentials.token(ConfiguredFile(setting: "forward.tokenFile", path: twoWords))
        }
    }

    @Test func missingAndNonPEMFilesAreNamed() throws {
        let directory = try TemporaryDirectory()
        var configuration = ForwardConfiguration(url: "https://collector.example")
        configuration.caFile = directory.path + "/nope.pem"
        let missing = try #require(setupError(configuration))
        #expect(missing == .file(setting: "forward.caFile", path: directory.path + "/nope.pem", problem: .missing))
        #expect(missing.description == "forward.caFile \(directory.path)/nope.pem: no such file")

        configuration.caFile = try directory.write("ca.pem", "hello, not a certificate\n")
        let notPEM = try #require(setupError(configuration))
        #expect(notPEM.description.contains("ca.pem: not a PEM certificate"))

        configuration.caFile = directory.path
        #expect(setupError(configuration)?.description.contains("not a regular file") == true)

        configuration.caFile = try directory.write(
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        )
        #expect(setupError(configuration)?.description.contains("broken.pem: not a PEM certificate") == true)
    }

    @Test func clientCertificateAndKeyAreChecked() throws {
        let certificates = try TestCertificates.load()
        var configuration = ForwardConfiguration(url: "https://collector.example")
        configuration.caFile = certificates.path("ca.pem")
        configuration.certFile = certificates.path("client.pem")
        let directory = try TemporaryDirectory()
        configuration.keyFile = try directory.write("ca.pem", try readText(certificates.path("ca.pem")), mode: 0o600)
        let notKey = try #require(setupError(configuration))
        #expect(notKey.description.contains("forward.keyFile \(directory.path)/ca.pem: not a PEM private key"))

        configuration.keyFile = certificates.path("server.key")
        let mismatch = try #require(setupError(configuration))
        #expect(mismatch.description.contains("does not belong to the certificate"))

        configuration.keyFile = nil
        #expect(
            setupError(configuration)
                == .incompleteClientCertificate(certFile: certificates.path("client.pem"), keyFile: nil)
        )
        configuration.keyFile = certificates.path("client.key")
        #expect(setupError(configuration) == nil)
    }

    @Test func keyFileReadableByOthersIsRefusedNamingTheFile() throws {
        let certificates = try TestCertificates.load()
        let directory = try TemporaryDirectory()
        let key = try directory.write("client.key", try readText(certificates.path("client.key")), mode: 0o644)
        var configuration = ForwardConfiguration(url: "https://collector.example")
        configuration.caFile = certificates.path("ca.pem")
        configuration.certFile = certificates.path("client.pem")
        configuration.keyFile = key
        let error = try #require(setupError(configuration))
        #expect(error == .file(setting: "forward.keyFile", path: key, problem: .readableByOthers(mode: 0o100644)))
        #expect(error.description.hasPrefix("forward.keyFile \(key): readable by group or others (mode 0644)"))
        chmod(key, 0o640)
        #expect(
            setupError(configuration)
                == .file(setting: "forward.keyFile", path: key, problem: .readableByOthers(mode: 0o100640))
        )
        chmod(key, 0o600)
        #expect(setupError(configuration) == nil)
        chmod(key, 0o400)
        #expect(setupError(configuration) == nil)
    }

    @Test func plainHTTPGoesToLoopbackAddressesOnly() throws {
        for url in [
            "http://127.0.0.1:8443", "http://127.1.2.3", "http://localhost:8443", "http://LOCALHOST",
            "http://[::1]:8443",
        ] {
            #expect(throws: Never.self, "\(url)") { try CollectorEndpoint(url: url) }
        }
        for url in [
            "http://collector.example:8443", "http://10.0.0.1", "http://128.0.0.1", "http://[::2]",
            "http://127.0.0.1.example",
        ] {
            #expect("\(url)") { try CollectorEndpoint(url: url) } throws: { error in
                guard case ForwarderSetupError.invalidURL(url, let reason) = error else { return false }
                return reason.hasPrefix("plain http:// is allowed only to a loopback address")
            }
        }
        // Refused at start-up, whether a token is configured or not: incidents carry command lines.
        let error = try #require(setupError(ForwardConfiguration(url: "http://collector.example:8443")))
        #expect(
            error.description.hasPrefix("forward.url \"http://collector.example:8443\": plain http:// is allowed only")
        )
        #expect(try CollectorEndpoint(url: "https://collector.example:8443").usesTLS)
    }

    @Test func urlIsCheckedAndItsTrailingSlashDropped() throws {
        let endpoint = try CollectorEndpoint(url: "https://collector.example:8443/")
        #expect(endpoint.incidentsURL == "https://collector.example:8443/api/v1/incidents")
        #expect(endpoint.host == "collector.example")
        #expect(endpoint.port == 8443)
        #expect(endpoint.usesTLS)
        let plain = try CollectorEndpoint(url: "http://127.0.0.1")
        #expect(plain.port == 80)
        #expect(!plain.usesTLS)
        let ipv6 = try CollectorEndpoint(url: "https://[::1]:9000//")
        #expect(ipv6.host == "::1")
        #expect(ipv6.authority == "[::1]:9000")
        #expect(ipv6.incidentsURL == "https://[::1]:9000/api/v1/incidents")
        #expect(
            try CollectorEndpoint(url: "https://c.example/prefix/").incidentsURL
                == "https://c.example/prefix/api/v1/incidents"
        )
        for bad in ["", "collector.example", "ftp://x", "https://", "https://x:0", "https://x:99999", "https://u:p@x"] {
            #expect(throws: ForwarderSetupError.self) { try CollectorEndpoint(url: bad) }
        }
        let status = try IncidentForwarder(
            configuration: ForwardConfiguration(url: "http://127.0.0.1:9/"),
            outbox: UnusedOutbox(),
            logger: Logger(label: "test")
        ).status
        #expect(status == ForwarderStatus(url: "http://127.0.0.1:9"))
    }
}

/// The text of a file (a test's own input).
private func readText(_ path: String) throws -> String {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw TestFailure("cannot open \(path): errno \(errno)") }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(descriptor, &chunk, chunk.count)
        guard count > 0 else { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
