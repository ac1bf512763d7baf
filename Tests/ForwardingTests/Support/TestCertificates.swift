import Foundation
import TestSupport

/// CAs and certificates made by `openssl` at test time, once per test run, shared by the tests.
///
/// - `ca.pem`: the CA the agent trusts; `server.pem` (127.0.0.1, localhost) and `client.pem` are
///   issued by it, and so are `server-expired.pem` (valid 2020-01-01 to 2020-01-02) and
///   `server-wrong-name.pem` (collector.example only);
/// - `other-ca.pem`: a CA the agent does not know; it issued `server-other-ca.pem` and
///   `client-other-ca.pem`.
/// All server certificates share `server.key`, all client certificates `client.key`.
final class TestCertificates: Sendable {
    let directory: TemporaryDirectory

    func path(_ name: String) -> String { directory.path + "/" + name }

    private init(directory: TemporaryDirectory) {
        self.directory = directory
    }

    static let shared: Result<TestCertificates, TestFailure> = {
        do {
            let directory = try TemporaryDirectory()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script, "sh", directory.path]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                return .failure(TestFailure("openssl failed: \(String(decoding: message, as: UTF8.self))"))
            }
            return .success(TestCertificates(directory: directory))
        } catch {
            return .failure(TestFailure("cannot run openssl: \(error)"))
        }
    }()

    static func load() throws -> TestCertificates { try shared.get() }

    private static let script = #"""
        set -e
        cd "$1"
        cat > ca.cnf <<CNF
        [ ca ]
        default_ca = test_ca
        [ test_ca ]
        dir = .
        database = ./index.txt
        new_certs_dir = ./issued
        serial = ./serial
        default_md = sha256
        policy = any_name
        unique_subject = no
        copy_extensions = none
        [ any_name ]
        commonName = supplied
        [ req ]
        distinguished_name = req_name
        prompt = no
        [ req_name ]
        CN = unused
        [ ca_cert ]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [ server ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1, DNS:localhost
        [ wrong_name ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:collector.example
        [ client ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = clientAuth
        CNF
        mkdir -p issued
        : > index.txt
        echo 1000 > serial
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
        key ca.key; key other-ca.key; key server.key; key client.key
        chmod 600 client.key server.key
        openssl req -config ca.cnf -new -x509 -key ca.key -subj "/CN=execwatch test CA" -days 3650 \
            -extensions ca_cert -out ca.pem
        openssl req -config ca.cnf -new -x509 -key other-ca.key -subj "/CN=other test CA" -days 3650 \
            -extensions ca_cert -out other-ca.pem
        openssl req -config ca.cnf -new -key server.key -subj "/CN=127.0.0.1" -out server.csr
        openssl req -config ca.cnf -new -key client.key -subj "/CN=test agent" -out client.csr
        sign() {
            csr=$1 cacert=$2 cakey=$3 ext=$4 out=$5
            shift 5
            openssl ca -config ca.cnf -batch -notext -in "$csr" -cert "$cacert" -keyfile "$cakey" \
                -extensions "$ext" -out "$out" "$@" 2>"$out.log" || { cat "$out.log" >&2; exit 1; }
            test -s "$out"
        }
        sign server.csr ca.pem ca.key server server.pem -days 30
        sign server.csr other-ca.pem other-ca.key server server-other-ca.pem -days 30
        sign server.csr ca.pem ca.key server server-expired.pem -startdate 20200101000000Z -enddate 20200102000000Z
        sign server.csr ca.pem ca.key wrong_name server-wrong-name.pem -days 30
        sign client.csr ca.pem ca.key client client.pem -days 30
        sign client.csr other-ca.pem other-ca.key client client-other-ca.pem -days 30
        """#
}
