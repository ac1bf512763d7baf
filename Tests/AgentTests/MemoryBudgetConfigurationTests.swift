import ConfigurationFiles
import RuleEngine
import Testing

@testable import Agent

@Suite("Memory budgets in the agent configuration")
struct MemoryBudgetConfigurationTests {
    @Test func budgetsHaveDefaultsAndTakeSizesWithUnits() throws {
        let defaults = AgentConfiguration()
        #expect(defaults.engineMaxBytes == 32 << 20)
        #expect(defaults.reassemblyMaxBytes == 16 << 20)
        let yaml = """
            engine:
              maxBytes: 64MiB
            reassembly.maxBytes: 2_097_152
            """
        let c = try AgentConfigurationLoader.load(yaml: yaml, file: "agent.yaml")
        #expect(c.engineMaxBytes == 64 << 20)
        #expect(c.reassemblyMaxBytes == 2 << 20)
    }

    @Test func environmentOverridesTheBudgets() throws {
        var c = AgentConfiguration()
        try AgentConfigurationLoader.applyEnvironment(
            ["EXECWATCH_ENGINE_MAX_BYTES": "1GiB", "EXECWATCH_REASSEMBLY_MAX_BYTES": "8192K"],
            to: &c
        )
        #expect(c.engineMaxBytes == 1 << 30)
        #expect(c.reassemblyMaxBytes == 8 << 20)
    }

    @Test(arguments: [
        ("engine:\n  maxBytes: lots\n", "agent.yaml:2:13", "expected a size in bytes"),
        ("engine:\n  maxBytes: 12TiB\n", "agent.yaml:2:13", "expected a size in bytes"),
        ("engine:\n  maxBytes: 1000\n", "agent.yaml:2:13", "out of range"),
        ("reassembly:\n  maxBytes: -5MiB\n", "agent.yaml:2:13", "expected a size in bytes"),
        ("reassembly:\n  maxBytes: 99999999999999GiB\n", "agent.yaml:2:13", "out of range"),
    ])
    func badBudgetsNameFileLineAndColumn(yaml: String, location: String, message: String) {
        do {
            _ = try AgentConfigurationLoader.load(yaml: yaml, file: "agent.yaml")
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.location == location, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }
}
