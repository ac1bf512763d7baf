#if canImport(Glibc)
import Glibc
#endif

/// Why the forwarder could not be set up from its configuration. Each case names the setting and
/// the file, and says what is wrong in words an operator can act on.
public enum ForwarderSetupError: Error, Equatable, CustomStringConvertible {
    /// What is wrong with a file named in the configuration.
    public enum FileProblem: Sendable, Equatable {
        case missing
        /// open(2) or read(2) failed with this errno (permissions, I/O error, …).
        case unreadable(errno: Int32)
        case notARegularFile
        case empty
        /// Larger than any certificate, key or token file can reasonably be.
        case tooLarge(bytes: Int)
        /// Not PEM text (no `-----BEGIN` block), or PEM that does not hold what was expected.
        case notPEM(expected: String)
        /// Group or others may read it although it holds a secret (mode bits).
        case readableByOthers(mode: UInt32)
        /// The token holds spaces or control characters inside it.
        case malformedToken
    }

    /// `forward.url` is empty, not http(s), or has no host.
    case invalidURL(String, reason: String)
    /// A file of the configuration (`setting` is its key, e.g. `forward.caFile`).
    case file(setting: String, path: String, problem: FileProblem)
    /// `forward.certFile` without `forward.keyFile`, or the other way round.
    case incompleteClientCertificate(certFile: String?, keyFile: String?)
    /// The TLS library refused the configuration, e.g. a key that does not belong to the certificate.
    case tls(reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "forward.url \"\(url)\": \(reason)"
        case .file(let setting, let path, let problem):
            return "\(setting) \(path): \(Self.describe(problem))"
        case .incompleteClientCertificate(let certFile, let keyFile):
            if let certFile {
                return "forward.certFile \(certFile) is set but forward.keyFile is not: mutual TLS needs both"
            }
            return "forward.keyFile \(keyFile ?? "") is set but forward.certFile is not: mutual TLS needs both"
        case .tls(let reason):
            return "TLS setup: \(reason)"
        }
    }

    private static func describe(_ problem: FileProblem) -> String {
        switch problem {
        case .missing:
            return "no such file"
        case .unreadable(let code):
            return "cannot read it: \(String(cString: strerror(code))) (errno \(code))"
        case .notARegularFile:
            return "not a regular file"
        case .empty:
            return "the file is empty"
        case .tooLarge(let bytes):
            return "too large (\(bytes) bytes) for this kind of file"
        case .notPEM(let expected):
            return "not a PEM \(expected)"
        case .readableByOthers(let mode):
            let octal = String(mode & 0o7777, radix: 8)
            return "readable by group or others (mode 0\(octal)); it holds a secret, so it is refused: "
                + "chmod 600 it (and chown it to the agent's user)"
        case .malformedToken:
            return "the token holds spaces or control characters; the file must hold the token alone"
        }
    }
}
