import ConfigurationFiles
import Testing

@testable import Agent

@Suite("Agent configuration")
struct ConfigurationTests {
    @Test func emptyFileGivesEveryDefault() throws {
        #expect(try AgentConfigurationLoader.load(yaml: "", file: "agent.yaml") == AgentConfiguration())
        #expect(try AgentConfigurationLoader.load(yaml: "# nothing\n", file: "agent.yaml") == AgentConfiguration())
    }

    @Test func nestedAndDottedKeysApply() throws {
        let yaml = """
            hostName: web-1
            source: proc-poll
            stateDir: /tmp/ew-state
            rules:
              - /etc/a.xml
              - /etc/rules.d
            audit:
              key: ew-test
              backlogLimit: 16_384
            procPoll.intervalMilliseconds: 250
            metrics:
              listen: "off"
            """
        let c = try AgentConfigurationLoader.load(yaml: yaml, file: "agent.yaml")
        #expect(c.hostName == "web-1")
        #expect(c.source == .procPoll)
        #expect(c.stateDirectory == "/tmp/ew-state")
        #expect(c.rulePaths == ["/etc/a.xml", "/etc/rules.d"])
        #expect(c.auditKey == "ew-test")
        #expect(c.auditBacklogLimit == 16384)
        #expect(c.procPollIntervalMilliseconds == 250)
        #expect(c.metricsListen == nil)
        #expect(c.auditBacklogWaitTime == 0)  // untouched default
    }

    @Test(arguments: [
        ("audti:\n  key: x\n", "agent.yaml:1:1", "unknown key \"audti\""),
        ("audit:\n  backlogLimt: 5\n", "agent.yaml:2:3", "unknown key \"audit.backlogLimt\""),
        ("audit:\n  backlogLimt: 5\n", "agent.yaml:2:3", "did you mean \"audit.backlogLimit\"?"),
        ("forward:\n  tokenFil: /t\n", "agent.yaml:2:3", "did you mean \"forward.tokenFile\"?"),
        ("audit:\n  backlogLimit: lots\n", "agent.yaml:2:17", "expected a whole number, got \"lots\""),
        ("audit:\n  backlogLimit: 1\n", "agent.yaml:2:17", "out of range"),
        ("audit:\n  backlogLimit: 99999999999999999999\n", "agent.yaml:2:17", "expected a whole number"),
        ("audit:\n  backlogLimit: -9223372036854775808\n", "agent.yaml:2:17", "out of range"),
        ("reassembly:\n  graceMilliseconds: 1e300\n", "agent.yaml:2:22", "expected a whole number"),
        ("procPoll:\n  intervalMilliseconds: nan\n", "agent.yaml:2:25", "expected a whole number"),
        ("metrics:\n  listen: 127.0.0.1:99999999999999999999\n", "agent.yaml:2:11", "expected host:port or off"),
        ("source: kernel\n", "agent.yaml:1:9", "unknown source \"kernel\""),
        ("source: audit\n", "agent.yaml:1:9", "expected one of auto, ebpf, audit-unicast, audit-multicast, audisp"),
        ("stateDir: var/lib\n", "agent.yaml:1:11", "expected an absolute path"),
        ("ebpf:\n  ringBufferBytes: 3MiB\n", "agent.yaml:2:20", "must be a power of two"),
        ("ebpf:\n  btfPath: vmlinux\n", "agent.yaml:2:12", "expected an absolute path"),
        ("hostName: [a, b]\n", "agent.yaml:1:11", "expected a single value"),
        ("- a\n- b\n", "agent.yaml:1:1", "expected a mapping"),
        ("audit: {key: \"has space\"}\n", "agent.yaml:1:14", "1 to 31 ASCII characters"),
        ("metrics:\n  listen: localhost\n", "agent.yaml:2:11", "expected host:port or off"),
    ])
    func badValuesNameFileLineAndColumn(yaml: String, location: String, message: String) {
        do {
            _ = try AgentConfigurationLoader.load(yaml: yaml, file: "agent.yaml")
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.location == location, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test(arguments: [
        (
            "audit:\n  key: [unclosed\n", "agent.yaml:3:1",
            "not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 8)"
        ),
        ("hostName: \"open\n", "agent.yaml:2:1", "(while scanning a quoted scalar at line 1, column 11)"),
        ("hostName: *web\n", "agent.yaml:1:11", "alias *web names no anchor"),
        ("\thostName: a\n", "agent.yaml:1:1", "it is a tab: YAML indents with spaces only"),
        ("source: auto\nsource: audisp\n", "agent.yaml:2:1", "duplicate key \"source\""),
        ("audit:\n  key: a\n    extra: b\n", "agent.yaml:3:10", "mapping values are not allowed in this context"),
        ("just text\n", "agent.yaml:1:1", "expected a mapping of keys to values"),
        ("source: auto\n---\nsource: audisp\n", "agent.yaml:3:1", "expected one YAML document, found 2"),
    ])
    func invalidYAMLIsReportedWithItsPosition(yaml: String, location: String, message: String) {
        do {
            _ = try AgentConfigurationLoader.load(yaml: yaml, file: "agent.yaml")
            Issue.record("accepted invalid YAML: \(yaml)")
        } catch {
            #expect(error.location == location, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func environmentVariablesOverrideTheFile() throws {
        var c = try AgentConfigurationLoader.load(yaml: "source: proc-poll\naudit: {backlogLimit: 9000}\n", file: "f")
        try AgentConfigurationLoader.applyEnvironment(
            [
                "EXECWATCH_SOURCE": "audit-unicast", "EXECWATCH_AUDIT_BACKLOG_LIMIT": "12000",
                "EXECWATCH_RULES": "/a:/b", "OTHER": "x",
            ],
            to: &c
        )
        #expect(c.source == .auditUnicast)
        #expect(c.auditBacklogLimit == 12000)
        #expect(c.rulePaths == ["/a", "/b"])
        #expect(
            AgentConfigurationLoader.environmentName(of: "procPoll.intervalMilliseconds")
                == "EXECWATCH_PROC_POLL_INTERVAL_MILLISECONDS"
        )
        do {
            try AgentConfigurationLoader.applyEnvironment(["EXECWATCH_AUDIT_BACKLOG_WAIT_TIME": "-1"], to: &c)
            Issue.record("accepted -1")
        } catch {
            #expect(error.location == "environment variable EXECWATCH_AUDIT_BACKLOG_WAIT_TIME")
        }
    }

    @Test func yamlSubsetCoversWhatConfigurationsUse() throws {
        let yaml = """
            ---
            # a comment line
            hostName: 'web # not a comment'   # a comment
            agentId: "id-\\\\1"
            rules: [/etc/a.xml, "/etc/b dir"]
            audit: {key: k1, backlogLimit: 9000}
            metrics:
              listen: "[::1]:9466"
            """
        let c = try AgentConfigurationLoader.load(yaml: yaml, file: "f")
        #expect(c.hostName == "web # not a comment")
        #expect(c.agentId == "id-\\1")
        #expect(c.rulePaths == ["/etc/a.xml", "/etc/b dir"])
        #expect(c.auditKey == "k1" && c.auditBacklogLimit == 9000)
        #expect(c.metricsListen == "[::1]:9466")
    }

    @Test func forwardKeysApplyAndGoTogether() throws {
        let yaml = """
            forward:
              url: https://collector.example:8443
              caFile: /etc/execwatch/ca.pem
              certFile: /etc/execwatch/agent.pem
              keyFile: /etc/execwatch/agent.key
              tokenFile: /etc/execwatch/token
              batchMaxIncidents: 10
              gzip: false
            """
        let c = try AgentConfigurationLoader.load(yaml: yaml, file: "agent.yaml")
        #expect(c.forward.url == "https://collector.example:8443")
        #expect(c.forward.caFile == "/etc/execwatch/ca.pem" && c.forward.tokenFile == "/etc/execwatch/token")
        #expect(c.forward.certFile == "/etc/execwatch/agent.pem" && c.forward.keyFile == "/etc/execwatch/agent.key")
        #expect(c.forward.batchMaxIncidents == 10 && c.forward.gzip == false)
        #expect(AgentConfiguration().forward.url.isEmpty, "not forwarding by default")

        #expect(throws: ConfigurationError.self) {
            _ = try AgentConfigurationLoader.load(yaml: "forward: {url: x, certFile: /a}", file: "f")
        }
        do {
            _ = try AgentConfigurationLoader.load(yaml: "forward:\n  url: https://c:1\n  certFile: /a.pem\n", file: "f")
            Issue.record("a certificate without its key was accepted")
        } catch {
            #expect(error.message.contains("forward.keyFile"))
        }
        do {
            _ = try AgentConfigurationLoader.load(yaml: "forward:\n  tokenFile: /t\n", file: "f")
            Issue.record("forward options without a URL were accepted")
        } catch {
            #expect(error.message.contains("forward.url"))
        }
        do {
            _ = try AgentConfigurationLoader.load(yaml: "forward:\n  url: ftp://c\n", file: "agent.yaml")
            Issue.record("an ftp URL was accepted")
        } catch {
            #expect(error.location == "agent.yaml:2:8")
        }
    }

}
