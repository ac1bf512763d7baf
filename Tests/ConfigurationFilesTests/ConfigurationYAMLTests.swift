import Testing

@testable import ConfigurationFiles

@Suite("Configuration YAML")
struct ConfigurationYAMLTests {
    @Test func sequencesAndMappingsCarryTheirPositions() throws {
        let sequence = try ConfigurationYAML.parse("- a\n- 'b'\n-\n  x: 1\n")
        #expect(
            sequence
                == .sequence(
                    [
                        .scalar("a", .init(line: 1, column: 3)), .scalar("b", .init(line: 2, column: 3)),
                        .mapping(
                            [
                                .init(
                                    key: "x",
                                    keyMark: .init(line: 4, column: 3),
                                    value: .scalar("1", .init(line: 4, column: 6))
                                )
                            ],
                            .init(line: 4, column: 3)
                        ),
                    ],
                    .init(line: 1, column: 1)
                )
        )
    }
}

@Suite("Settings files")
struct SettingsFileTests {
    struct Sample: Equatable {
        var clientCAFile = ""
        var backlogLimit = 0
        var names: [String] = ["default"]
    }

    let file = SettingsFile<Sample>(
        settings: [
            Setting("tls.clientCAFile") { c, v in c.clientCAFile = try SettingValue.absolutePath(v) },
            Setting("audit.backlogLimit") { c, v in c.backlogLimit = try SettingValue.number(v, in: 1...10) },
            Setting(list: "names", reset: { $0.names = [] }, apply: { c, v in c.names.append(v) }),
        ],
        environmentPrefix: "EXAMPLE_"
    )

    @Test func environmentNamesSplitWordsAndKeepAcronymsWhole() {
        #expect(file.environmentName(of: "tls.clientCAFile") == "EXAMPLE_TLS_CLIENT_CA_FILE")
        #expect(file.environmentName(of: "audit.backlogLimit") == "EXAMPLE_AUDIT_BACKLOG_LIMIT")
        #expect(file.environmentName(of: "stateDir") == "EXAMPLE_STATE_DIR")
    }

    @Test func listsReplaceTheDefaultOnceAndEnvironmentOverrides() throws {
        var sample = try file.load(yaml: "names: [a, b]\naudit: {backlogLimit: 3}\n", file: "x.yaml", onto: Sample())
        #expect(sample.names == ["a", "b"] && sample.backlogLimit == 3)
        try file.applyEnvironment(["EXAMPLE_NAMES": "c:d", "EXAMPLE_TLS_CLIENT_CA_FILE": "/ca.pem"], to: &sample)
        #expect(sample.names == ["c", "d"] && sample.clientCAFile == "/ca.pem")
    }

    @Test func deeplyNestedFlowCollectionsAreAnErrorNotAStackOverflow() {
        // Each [ or { recursed: a line of 100,000 of them overflowed the stack.
        #expect(
            throws: ConfigurationError(
                location: "x.yaml:1:72",
                message: "not valid YAML: [lists] and {mappings} nested deeper than 64 levels"
            )
        ) {
            _ = try file.load(yaml: "names: " + String(repeating: "[", count: 100_000), file: "x.yaml", onto: Sample())
        }
        #expect(throws: ConfigurationError.self) {
            _ = try file.load(
                yaml: "audit: " + String(repeating: "{a: ", count: 100_000),
                file: "x.yaml",
                onto: Sample()
            )
        }
    }

    @Test func errorsNameFileLineAndColumn() {
        #expect(
            throws: ConfigurationError(location: "x.yaml:2:17", message: "audit.backlogLimit: 11 is out of range 1…10")
        ) {
            _ = try file.load(yaml: "audit:\n  backlogLimit: 11\n", file: "x.yaml", onto: Sample())
        }
        #expect(throws: ConfigurationError.self) {
            _ = try file.load(yaml: "tls:\n  clientCaFile: /x\n", file: "x.yaml", onto: Sample())
        }
        #expect(
            throws: ConfigurationError(
                location: "environment variable EXAMPLE_TLS_CLIENT_CA_FILE",
                message: "expected an absolute path, got \"rel\""
            )
        ) {
            var sample = Sample()
            try file.applyEnvironment(["EXAMPLE_TLS_CLIENT_CA_FILE": "rel"], to: &sample)
        }
    }
}
