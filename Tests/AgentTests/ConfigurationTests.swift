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
        ("audit:\n  backlogLimit: lots\n", "agent.yaml:2:17", "expected a whole number, got \"lots\""),
        ("audit:\n  backlogLimit: 1\n", "agent.yaml:2:17", "out of range"),
        ("source: kernel\n", "agent.yaml:1:9", "unknown source \"kernel\""),
        ("stateDir: var/lib\n", "agent.yaml:1:11", "expected an absolute path"),
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

    @Test func invalidYAMLIsReportedWithItsPosition() {
        do {
            _ = try AgentConfigurationLoader.load(yaml: "audit:\n  key: [unclosed\n", file: "agent.yaml")
            Issue.record("accepted invalid YAML")
        } catch {
            #expect(error.location == "agent.yaml")
            #expect(error.message.contains("not valid YAML"))
            #expect(error.message.contains("3:1") || error.message.contains("line"), "\(error)")
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
}
