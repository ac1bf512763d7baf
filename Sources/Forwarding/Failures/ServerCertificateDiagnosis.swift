import ExecEvents

/// Why the collector's certificate was not accepted, told from the chain it presented.
///
/// BoringSSL reports every chain failure as `CERTIFICATE_VERIFY_FAILED`; this tells the cases
/// people must act on apart: an expired (or not yet valid) certificate, one from a CA we do not
/// trust, and one from a trusted CA that fails for another reason.
struct ServerCertificateDiagnosis: Sendable, Equatable {
    /// What a certificate says about itself.
    struct Certificate: Sendable, Equatable {
        var names: CertificateNames?
        /// Seconds since the epoch.
        var notValidBefore: Int64
        var notValidAfter: Int64

        init(names: CertificateNames?, notValidBefore: Int64, notValidAfter: Int64) {
            self.names = names
            self.notValidBefore = notValidBefore
            self.notValidAfter = notValidAfter
        }

        var commonName: String { names?.subjectCommonName.map { "\"\($0)\"" } ?? "(no common name)" }
    }

    /// The chain the collector presented, its own certificate first.
    var presented: [Certificate]
    /// The CAs of `forward.caFile`; nil when the system trust store is used.
    var trusted: [Certificate]?
    /// Where trust comes from, for the message: the CA file's path, or "the system trust store".
    var trustSource: String

    /// The reason, for `lastError` and the log: contains "certificate expired", "not yet valid",
    /// or "unknown CA" when that is what is wrong. It does not depend on `now` beyond that (so the
    /// same problem gives the same text at every retry).
    func reason(now seconds: Int64) -> String {
        guard let leaf = presented.first else {
            return "TLS: the collector's certificate was not accepted (CERTIFICATE_VERIFY_FAILED) "
                + "and the chain it presents could not be read"
        }
        for (position, certificate) in presented.enumerated() {
            let what =
                position == 0
                ? "the server certificate \(certificate.commonName)"
                : "the intermediate CA certificate \(certificate.commonName)"
            if seconds > certificate.notValidAfter {
                return "TLS: certificate expired: \(what) expired on \(Self.date(certificate.notValidAfter))"
            }
            if seconds < certificate.notValidBefore {
                return "TLS: certificate not yet valid: \(what) is valid from "
                    + "\(Self.date(certificate.notValidBefore)) (is this host's clock right?)"
            }
        }
        let issuerName = presented.last?.names?.issuerCommonName.map { "\"\($0)\"" } ?? "an unnamed CA"
        guard let trusted else {
            if leaf.names?.isSelfIssued == true {
                return "TLS: server certificate from an unknown CA (\(leaf.commonName) is self-signed, "
                    + "not in \(trustSource); set forward.caFile)"
            }
            return "TLS: server certificate from an unknown CA (\(leaf.commonName) issued by \(issuerName), "
                + "not in \(trustSource); set forward.caFile to the collector's CA)"
        }
        let anchors = trusted.filter { anchor in
            presented.contains { certificate in
                guard let names = certificate.names, let anchorNames = anchor.names else { return false }
                return names.issuer == anchorNames.subject || names == anchorNames
            }
        }
        guard !anchors.isEmpty else {
            let issued = leaf.names?.isSelfIssued == true ? "is self-signed" : "issued by \(issuerName)"
            return "TLS: server certificate from an unknown CA (\(leaf.commonName) \(issued), "
                + "which is not in \(trustSource))"
        }
        if let expired = anchors.first(where: { seconds > $0.notValidAfter }) {
            return "TLS: certificate expired: the trusted CA \(expired.commonName) of \(trustSource) expired on "
                + "\(Self.date(expired.notValidAfter))"
        }
        return "TLS: server certificate \(leaf.commonName) rejected although issued by a CA of \(trustSource) "
            + "(CERTIFICATE_VERIFY_FAILED: key usage, signature or an incomplete chain?)"
    }

    private static func date(_ seconds: Int64) -> String {
        let text = EventTime(seconds: seconds).rfc3339
        // 2020-01-02T00:00:00.000Z -> 2020-01-02T00:00:00Z
        return text.hasSuffix(".000Z") ? String(text.dropLast(5)) + "Z" : text
    }
}
