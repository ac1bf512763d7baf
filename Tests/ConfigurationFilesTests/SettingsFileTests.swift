import Testing

@testable import ConfigurationFiles

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

    @Test func anchorsAliasesAndBlockScalarsApply() throws {
        let yaml = "names:\n  - &first a\n  - *first\ntls:\n  clientCAFile: >-\n    /etc/ca.pem\n"
        let sample = try file.load(yaml: yaml, file: "x.yaml", onto: Sample())
        #expect(sample.names == ["a", "a"] && sample.clientCAFile == "/etc/ca.pem")
    }

    @Test func aLoneDocumentMarkerOrCommentsGiveTheDefaults() throws {
        #expect(try file.load(yaml: "---\n", file: "x.yaml", onto: Sample()) == Sample())
        #expect(try file.load(yaml: "# nothing\n", file: "x.yaml", onto: Sample()) == Sample())
    }

    @Test func deeplyNestedFlowCollectionsAreAnErrorNotAStackOverflow() {
        // Each [ or { recursed: a line of 100,000 of them overflowed the stack. The root mapping is
        // the first of the 256 levels, so the 256th `[` is one too many.
        #expect(
            throws: ConfigurationError(
                location: "x.yaml:1:263",
                message: "not valid YAML: collections nested deeper than 256 levels"
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

@Suite("Unknown keys")
struct UnknownKeyTests {
    let file = SettingsFile<Int>(
        settings: [
            Setting("forward.tokenFile") { _, _ in },
            Setting("audit.backlogLimit") { _, _ in },
            Setting("source") { _, _ in },
        ],
        environmentPrefix: "EXAMPLE_"
    )

    func message(_ yaml: String) -> String {
        do {
            _ = try file.load(yaml: yaml, file: "x.yaml", onto: 0)
            return "accepted"
        } catch {
            return error.description
        }
    }

    @Test func aCloseMisspellingGetsTheNearestKey() {
        #expect(
            message("forward:\n  tokenFil: /t\n").hasPrefix(
                "x.yaml:2:3: unknown key \"forward.tokenFil\"; did you mean \"forward.tokenFile\"? known keys: "
            )
        )
        #expect(message("audit.backlogLimt: 5\n").contains("did you mean \"audit.backlogLimit\"?"))
        #expect(message("sourec: auto\n").contains("did you mean \"source\"?"))
        #expect(message("forward.tokenfile: /t\n").contains("did you mean \"forward.tokenFile\"?"))
    }

    @Test func aMisspeltSectionGetsTheSection() {
        #expect(message("audti:\n  backlogLimit: 5\n").contains("unknown key \"audti\"; did you mean \"audit\"?"))
    }

    @Test func aKeyFarFromEveryKnownOneGetsNoGuessButTheList() {
        let text = message("colour: blue\n")
        #expect(!text.contains("did you mean"), "\(text)")
        #expect(text.hasSuffix("known keys: forward.tokenFile, audit.backlogLimit, source"), "\(text)")
    }

    @Test func editDistanceCountsASwapOfNeighboursAsOneEdit() {
        #expect(KeySuggestion.editDistance(Array("audti"), Array("audit")) == 1)
        #expect(KeySuggestion.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(KeySuggestion.editDistance(Array(""), Array("abc")) == 3)
    }
}

@Suite("Configuration file text")
struct ConfigurationFileTextTests {
    @Test func textThatIsNotUTF8IsRefusedWhereItStops() throws {
        #expect(
            throws: ConfigurationError(location: "x.yaml:2:11", message: "not UTF-8 text")
        ) {
            _ = try ConfigurationFileReader.text(of: Array("a: 1\nhostName: ".utf8) + [0xc3, 0x28], path: "x.yaml")
        }
        #expect(try ConfigurationFileReader.text(of: Array("a: é\n".utf8), path: "x.yaml") == "a: é\n")
    }
}
