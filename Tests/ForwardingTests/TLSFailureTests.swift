import Forwarding
import Foundation
import NIOSSL
import Testing

@Suite("TLS failures are named (127.0.0.1)")
struct TLSFailureTests {
    /// Runs a forwarder (trusting ca.pem, with `clientCertificate` when given) against a collector
    /// with this TLS configuration until an attempt fails; returns the status and the requests.
    func firstFailure(
        server: TLSConfiguration,
        hangUpAfterHandshake: Bool = false,
        clientCertificate: Bool = false
    ) async throws -> (ForwarderStatus, [TestCollector.Request]) {
        let certificates = try TestCertificates.load()
        let collector = try await TestCollector.start(tls: server, hangUpAfterHandshake: hangUpAfterHandshake) { _, _ in
            .accepted()
        }
        var configuration = ForwardConfiguration.test(url: collector.url)
        configuration.caFile = certificates.path("ca.pem")
        if clientCertificate {
            configuration.certFile = certificates.path("client.pem")
            configuration.keyFile = certificates.path("client.key")
        }
        let run = try await ForwarderRun.start(configuration, storing: [Sample.update()])
        let status = try await run.waitForStatus { $0.lastError != nil }
        let depth = try await run.outboxDepth()
        await run.stop()
        await collector.stop()
        #expect(depth == 1)
        #expect(status.forwarded == 0)
        #expect(status.retries >= 1)
        return (status, collector.requests)
    }

    @Test func serverCertificateFromAnUnknownCA() async throws {
        let certificates = try TestCertificates.load()
        let (status, requests) = try await firstFailure(
            server: try TestCollector.tls(certificates, certificate: "server-other-ca.pem")
        )
        #expect(status.lastError?.contains("unknown CA") == true, "\(status.lastError ?? "nil")")
        #expect(status.lastError?.contains("other test CA") == true)
        #expect(requests.isEmpty)
    }

    @Test func expiredServerCertificate() async throws {
        let certificates = try TestCertificates.load()
        let (status, _) = try await firstFailure(
            server: try TestCollector.tls(certificates, certificate: "server-expired.pem")
        )
        #expect(status.lastError?.contains("certificate expired") == true, "\(status.lastError ?? "nil")")
    }

    @Test func hostnameMismatch() async throws {
        let certificates = try TestCertificates.load()
        let (status, _) = try await firstFailure(
            server: try TestCollector.tls(certificates, certificate: "server-wrong-name.pem")
        )
        #expect(status.lastError?.contains("hostname mismatch") == true, "\(status.lastError ?? "nil")")
    }

    @Test(arguments: [TLSVersion.tlsv12, .tlsv13])
    func clientCertificateRefused(version: TLSVersion) async throws {
        let certificates = try TestCertificates.load()
        let (status, requests) = try await firstFailure(
            server: try TestCollector.tls(certificates, clientCA: "other-ca.pem", maximumVersion: version),
            clientCertificate: true
        )
        #expect(status.lastError?.contains("client certificate refused") == true, "\(status.lastError ?? "nil")")
        #expect(requests.isEmpty)
    }

    @Test func clientCertificateRefusedByHangingUpAfterTheHandshake() async throws {
        let certificates = try TestCertificates.load()
        let (status, requests) = try await firstFailure(
            server: try TestCollector.tls(certificates, clientCA: "ca.pem", maximumVersion: .tlsv13),
            hangUpAfterHandshake: true,
            clientCertificate: true
        )
        #expect(status.lastError?.contains("client certificate refused") == true, "\(status.lastError ?? "nil")")
        #expect(requests.isEmpty)
        // Without a client certificate, the same hang-up is only a closed connection.
        let (plain, _) = try await firstFailure(
            server: try TestCollector.tls(certificates, maximumVersion: .tlsv13),
            hangUpAfterHandshake: true
        )
        #expect(plain.lastError?.contains("client certificate") == false, "\(plain.lastError ?? "nil")")
        #expect(plain.lastError?.contains("127.0.0.1") == true, "\(plain.lastError ?? "nil")")
    }

    @Test func clientCertificateRequiredButNoneConfigured() async throws {
        let certificates = try TestCertificates.load()
        let (status, _) = try await firstFailure(
            server: try TestCollector.tls(certificates, clientCA: "ca.pem")
        )
        #expect(status.lastError?.contains("requires a client certificate") == true, "\(status.lastError ?? "nil")")
    }

    @Test func httpsToAPlainHTTPCollector() async throws {
        let collector = try await TestCollector.start { _, _ in .accepted() }
        let url = collector.url.replacingOccurrences(of: "http://", with: "https://")
        let run = try await ForwarderRun.start(.test(url: url), storing: [Sample.update()])
        let status = try await run.waitForStatus { $0.lastError != nil }
        await run.stop()
        await collector.stop()
        #expect(status.lastError?.contains("speak TLS?") == true, "\(status.lastError ?? "nil")")
    }

    @Test func mutualTLSWithATrustedClientCertificate() async throws {
        let certificates = try TestCertificates.load()
        let collector = try await TestCollector.start(
            tls: try TestCollector.tls(certificates, clientCA: "ca.pem")
        ) { _, _ in .accepted() }
        var configuration = ForwardConfiguration.test(url: collector.url)
        configuration.caFile = certificates.path("ca.pem")
        configuration.certFile = certificates.path("client.pem")
        configuration.keyFile = certificates.path("client.key")
        let run = try await ForwarderRun.start(configuration, storing: [Sample.update()])
        #expect(try await run.waitForEmptyOutbox() == 0)
        let status = try await run.waitForStatus { $0.forwarded == 1 }
        await run.stop()
        await collector.stop()
        #expect(status.forwarded == 1)
        #expect(status.lastError == nil)
    }
}
