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
