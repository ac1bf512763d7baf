import ExecEvents
import NIOSSL
import Testing

@testable import Forwarding

@Suite("Failure reasons without a network")
struct FailureReasonTests {
    typealias Certificate = ServerCertificateDiagnosis.Certificate

    func certificate(_ name: String) throws -> Certificate {
        let certificates = try TestCertificates.load()
        return Certificate(try NIOSSLCertificate.fromPEMFile(certificates.path(name))[0])
    }

    @Test func namesAreReadFromTheCertificate() throws {
        let server = try certificate("server.pem")
        let ca = try certificate("ca.pem")
        #expect(server.names?.subjectCommonName == "127.0.0.1")
        #expect(server.names?.issuerCommonName == "execwatch test CA")
        #expect(server.names?.issuer == ca.names?.subject)
        #expect(ca.names?.isSelfIssued == true)
        #expect(server.names?.isSelfIssued == false)
        #expect(CertificateNames(der: [0x30, 0x03, 0x02, 0x01]) == nil)
        #expect(CertificateNames(der: []) == nil)
    }

    @Test func expiredCertificate() throws {
        let diagnosis = ServerCertificateDiagnosis(
            presented: [try certificate("server-expired.pem")],
            trusted: [try certificate("ca.pem")],
            trustSource: "/etc/execwatch/ca.pem"
        )
        let reason = diagnosis.reason(now: EventTime.now.millisecondsSinceEpoch / 1000)
        #expect(reason.contains("certificate expired"))
        #expect(reason.contains("2020-01-02T00:00:00Z"))
        #expect(reason.hasPrefix("TLS: "))
        // Before its start, it is not yet valid.
        let early = diagnosis.reason(now: EventTime(rfc3339: "2019-06-01T00:00:00Z")!.millisecondsSinceEpoch / 1000)
        #expect(early.contains("not yet valid"))
    }

    @Test func unknownCA() throws {
        let diagnosis = ServerCertificateDiagnosis(
            presented: [try certificate("server-other-ca.pem")],
            trusted: [try certificate("ca.pem")],
            trustSource: "/etc/execwatch/ca.pem"
        )
        let reason = diagnosis.reason(now: EventTime.now.millisecondsSinceEpoch / 1000)
        #expect(reason.contains("unknown CA"))
        #expect(reason.contains("\"other test CA\""))
        #expect(reason.contains("/etc/execwatch/ca.pem"))
        let system = ServerCertificateDiagnosis(
            presented: [try certificate("server-other-ca.pem")],
            trusted: nil,
            trustSource: "the system trust store"
        )
        #expect(system.reason(now: EventTime.now.millisecondsSinceEpoch / 1000).contains("unknown CA"))
        let selfSigned = ServerCertificateDiagnosis(
            presented: [try certificate("other-ca.pem")],
            trusted: nil,
            trustSource: "x"
        )
        #expect(selfSigned.reason(now: EventTime.now.millisecondsSinceEpoch / 1000).contains("self-signed"))
    }

    @Test func trustedButRejectedForAnotherReason() throws {
        let diagnosis = ServerCertificateDiagnosis(
            presented: [try certificate("server.pem")],
            trusted: [try certificate("ca.pem")],
            trustSource: "ca.pem"
        )
        let reason = diagnosis.reason(now: EventTime.now.millisecondsSinceEpoch / 1000)
        #expect(!reason.contains("unknown CA"))
        #expect(reason.contains("CERTIFICATE_VERIFY_FAILED"))
        #expect(
            ServerCertificateDiagnosis(presented: [], trusted: nil, trustSource: "x").reason(now: 0).contains("TLS")
        )
    }

    @Test func tlsAlertsAreReadFromBoringSSLErrors() {
        let unknownCA =
            "handshakeFailed(sslError([Error: 268436504 error:10000418:SSL routines:"
            + "OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA at /x/ssl/tls_record.cc:592]))"
        #expect(BoringSSLReasons(errorText: unknownCA).names == ["TLSV1_ALERT_UNKNOWN_CA"])
        #expect(BoringSSLReasons(errorText: unknownCA).alert?.code == "UNKNOWN_CA")
        #expect(BoringSSLReasons(errorText: unknownCA).alert?.name == "unknown CA")
        let bad = "error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE at x"
        #expect(BoringSSLReasons(errorText: bad).alert?.name == "bad certificate")
        let two =
            "[error:1:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at x, "
            + "error:2:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at y]"
        #expect(BoringSSLReasons(errorText: two).names == ["WRONG_VERSION_NUMBER", "CERTIFICATE_VERIFY_FAILED"])
        #expect(BoringSSLReasons(errorText: two).alert == nil)
        #expect(BoringSSLReasons(errorText: "Connection refused").names.isEmpty)
        #expect(TLSAlert(reason: "TLSV1_ALERT_") == nil)
    }

    @Test func transportErrorsAreClassified() {
        struct Described: Error, CustomStringConvertible {
            var description: String
        }
        let unknownCA = Described(description: "error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA")
        #expect(
            TransportFailure(unknownCA, presentsClientCertificate: true)
                == .clientCertificateRefused(detail: "TLS alert from the collector: unknown CA")
        )
        let required = Described(
            description: "error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED"
        )
        #expect(
            TransportFailure(required, presentsClientCertificate: false)
                == .clientCertificateRequired(detail: "TLS alert from the collector: certificate required")
        )
        let verify = Described(description: "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED")
        #expect(TransportFailure(verify, presentsClientCertificate: false) == .serverCertificateRejected)
        #expect(
            TransportFailure(NIOSSLExtraError.failedToValidateHostname, presentsClientCertificate: false)
                == .hostnameMismatch
        )
        let endpoint = try! CollectorEndpoint(url: "https://collector.example:8443")
        let configuration = ForwardConfiguration(url: endpoint.baseURL)
        #expect(
            TransportFailure.hostnameMismatch.reason(endpoint: endpoint, configuration: configuration)
                .contains("hostname mismatch")
        )
        #expect(
            TransportFailure.clientCertificateRefused(detail: "x").reason(
                endpoint: endpoint,
                configuration: configuration
            )
            .contains("client certificate refused")
        )
        #expect(
            TransportFailure.connectionRefused.reason(endpoint: endpoint, configuration: configuration)
                == "connection refused by collector.example:8443 (is the collector running?)"
        )
    }

    @Test func failuresAreLoggedLoudlyOncePerChange() {
        var policy = FailureLogPolicy()
        #expect(policy.failed(key: "500", now: 0) == .error)
        #expect(policy.failed(key: "500", now: 100) == .debug)
        #expect(policy.failed(key: "500", now: 59_999) == .debug)
        #expect(policy.failed(key: "500", now: 60_000) == .warning)
        #expect(policy.failed(key: "500", now: 60_001) == .debug)
        #expect(policy.failed(key: "connection refused", now: 60_002) == .error)
        #expect(policy.failedAttempts == 6)
        #expect(policy.succeeded() == 6)
        #expect(policy.succeeded() == 0)
        #expect(policy.failed(key: "connection refused", now: 60_003) == .error)
    }
}
