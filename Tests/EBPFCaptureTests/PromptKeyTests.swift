import Testing

@testable import EBPFCapture

/// How a program name a rule names becomes a key of the probe's `prompt_names` map, which the
/// probe looks up with an exec's `comm` and executed file's name (first 15 bytes, lower case).
@Suite struct PromptKeyTests {
    private func key(_ text: String) -> [UInt8] {
        Array(text.utf8) + [UInt8](repeating: 0, count: 16 - text.utf8.count)
    }

    @Test func namesAreFoldedToLowerCaseAndPaddedAsComm() {
        #expect(LoadedProbe.promptKey("nc") == key("nc"))
        #expect(LoadedProbe.promptKey("NetCat.OpenBSD") == key("netcat.openbsd"))
        // Only ASCII letters fold, as the rule index compares them.
        #expect(LoadedProbe.promptKey("ÉCHO") == Array("Écho".utf8) + [UInt8](repeating: 0, count: 11))
    }

    @Test func longNamesCompareByTheirFirst15BytesAsTheKernelCutsComm() {
        #expect(LoadedProbe.promptKey("netcat.traditional") == key("netcat.traditio"))
        #expect(LoadedProbe.promptKey("0123456789abcde") == key("0123456789abcde"))
    }

    @Test func namesNoExecCanHaveAreLeftOut() {
        #expect(LoadedProbe.promptKey("") == nil)
        #expect(LoadedProbe.promptKey("bin/nc") == nil)
        #expect(LoadedProbe.promptKey("n\u{0}c") == nil)
    }
}
