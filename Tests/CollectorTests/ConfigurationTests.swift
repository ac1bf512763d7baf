import ConfigurationFiles
import TestSupport
import Testing

@testable import Collector

@Suite("Configuration")
struct ConfigurationTests {
    @Test("an empty file gives the defaults")
    func defaults() throws {
        let configuration = try CollectorConfigurationLoader.load(yaml: "", file: "collector.yaml")
        #expect(configuration == CollectorConfiguration())
        #expect(configuration.listen.description == "127.0.0.1:8443")
        #expect(configuration.tls.clientAuth == .off)
        #expect(configuration.storageURL == "")
        #expect(configuration.stateDirectory == "/var/lib/execwatch-collector")
        #expect(configuration.limits.maxBodyBytes == 33_554_432)
        #expect(configuration.limits.maxStringBytes == 4_194_304)
        #expect(configuration.webAuth == .token)
    }

    @Test("every key, nested and dotted")
    func allKeys() throws {
        let yaml = """
            listen: "[::]:9443"
            tls:
              certFile: /etc/execwatch/collector.pem
              keyFile: /etc/execwatch/collector.key
              clientCAFile: /etc/execwatch/agents-ca.pem
              clientAuth: required
            storage.url: postgres://collector@db/execwatch
            stateDir: /srv/collector
            limits: {maxBodyBytes: 1_048_576, maxStringBytes: 65536}
            web:
              auth: "off"
            """
        let configuration = try CollectorConfigurationLoader.load(yaml: yaml, file: "collector.yaml")
        #expect(configuration.listen == ListenAddress(host: "::", port: 9443))
        #expect(configuration.listen.description == "[::]:9443")
        #expect(configuration.tls.certFile == "/etc/execwatch/collector.pem")
        #expect(configuration.tls.keyFile == "/etc/execwatch/collector.key")
        #expect(configuration.tls.clientCAFile == "/etc/execwatch/agents-ca.pem")
        #expect(configuration.tls.clientAuth == .required)
        #expect(configuration.storageURL == "postgres://collector@db/execwatch")
        #expect(configuration.stateDirectory == "/srv/collector")
        #expect(configuration.limits.maxBodyBytes == 1_048_576)
        #expect(configuration.limits.maxStringBytes == 65536)
        #expect(configuration.webAuth == .off)
    }

    @Test("environment variables override the file")
    func environment() throws {
        let configuration = try CollectorConfigurationLoader.load(
            yaml: "listen: 127.0.0.1:1\n",
            file: "collector.yaml",
            environment: [
                "EXECWATCH_COLLECTOR_LISTEN": "127.0.0.1:9000",
                "EXECWATCH_COLLECTOR_LIMITS_MAX_BODY_BYTES": "2048",
                "EXECWATCH_COLLECTOR_WEB_AUTH": "off",
            ]
        )
        #expect(configuration.listen.port == 9000)
        #expect(configuration.limits.maxBodyBytes == 2048)
        #expect(configuration.webAuth == .off)
        #expect(
            CollectorConfigurationLoader.environmentName(of: "tls.clientCAFile")
                == "EXECWATCH_COLLECTOR_TLS_CLIENT_CA_FILE"
        )
    }

    @Test(
        "a bad value or an unknown key names file, line and column",
        arguments: [
            ("listen: nowhere\n", "collector.yaml:1:9: listen: expected host:port, got \"nowhere\""),
            (
                "tls:\n  clientAuth: sometimes\n",
                "collector.yaml:2:15: tls.clientAuth: unknown value \"sometimes\"; expected one of required, optional, off"
            ),
            (
                "tls:\n  certFile: relative.pem\n",
                "collector.yaml:2:13: tls.certFile: expected an absolute path, got \"relative.pem\""
            ),
            (
                "storage:\n  url: mysql://db\n",
                "collector.yaml:2:8: storage.url: expected empty (SQLite in stateDir), an absolute path or a postgres:// URL, got \"mysql://db\""
            ),
            (
                "limits:\n  maxBodyBytes: lots\n",
                "collector.yaml:2:17: limits.maxBodyBytes: expected a whole number, got \"lots\""
            ),
            (
                "web:\n  auth: basic\n",
                "collector.yaml:2:9: web.auth: unknown value \"basic\"; expected one of token, off"
            ),
        ]
    )
    func badValue(yaml: String, message: String) {
        #expect(throws: ConfigurationError.self) {
            try CollectorConfigurationLoader.load(yaml: yaml, file: "collector.yaml")
        }
        do {
            _ = try CollectorConfigurationLoader.load(yaml: yaml, file: "collector.yaml")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("an unknown key is refused with its position")
    func unknownKey() {
        do {
            _ = try CollectorConfigurationLoader.load(yaml: "tls:\n  cert: /x\n", file: "collector.yaml")
            Issue.record("accepted an unknown key")
        } catch {
            #expect(error.location == "collector.yaml:2:3")
            #expect(error.message.hasPrefix("unknown key \"tls.cert\""))
        }
    }

    @Test(
        "rules spanning keys",
        arguments: [
            (
                "listen: 0.0.0.0:8443\n",
                "collector.yaml: tls.certFile and tls.keyFile are required to listen on 0.0.0.0:8443 (plain HTTP is allowed on a loopback address only)"
            ),
            (
                "tls.certFile: /c.pem\n",
                "collector.yaml: tls.certFile and tls.keyFile go together (set both or neither)"
            ),
            (
                "tls: {certFile: /c.pem, keyFile: /k.pem, clientAuth: optional}\n",
                "collector.yaml: tls.clientAuth optional needs tls.clientCAFile (the CA that signs agent certificates)"
            ),
            (
                "tls.clientAuth: required\ntls.clientCAFile: /ca.pem\n",
                "collector.yaml: tls.clientAuth required needs tls.certFile and tls.keyFile"
            ),
        ]
    )
    func crossKeyRules(yaml: String, message: String) {
        do {
            _ = try CollectorConfigurationLoader.load(yaml: yaml, file: "collector.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test(
        "plain HTTP is fine on loopback addresses",
        arguments: ["127.0.0.1:8443", "127.1.2.3:80", "[::1]:8443", "localhost:8443"]
    )
    func loopback(listen: String) throws {
        _ = try CollectorConfigurationLoader.load(yaml: "listen: \"\(listen)\"\n", file: "collector.yaml")
    }

    @Test("a file named with --config must exist; the default one may be missing")
    func files() throws {
        #expect(throws: ConfigurationError.self) {
            try CollectorConfigurationLoader.load(path: "/nonexistent/collector.yaml", environment: [:])
        }
        let directory = try TemporaryDirectory()
        let path = try directory.write("collector.yaml", "listen: 127.0.0.1:9999\n")
        #expect(try CollectorConfigurationLoader.load(path: path, environment: [:]).listen.port == 9999)
    }

    @Test("TLS files that cannot be read are named")
    func unreadableTLSFiles() {
        var tls = CollectorConfiguration.TLS()
        tls.certFile = "/nonexistent/cert.pem"
        tls.keyFile = "/nonexistent/key.pem"
        do {
            _ = try ServerTLS.configuration(for: tls)
            Issue.record("accepted missing files")
        } catch {
            #expect(error.description == "tls.certFile /nonexistent/cert.pem: No such file or directory")
        }
    }
}
