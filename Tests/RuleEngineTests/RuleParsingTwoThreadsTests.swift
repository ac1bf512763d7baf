import Foundation
import Testing

@testable import RuleEngine

/// Rule files parsed on two threads (``RuleLoader/parseEach(_:sourceReferences:)``) give what
/// parsing them one after another gives, in the same order.
@Suite struct RuleParsingTwoThreadsTests {
    @Test func eachDocumentParsesAsItDoesAloneInItsPlace() throws {
        var documents: [(file: String, bytes: [UInt8])] = []
        for directory in [SigmaCorpusTests.corpusDirectory, NetcatRuleTests.rulesDirectory] {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let path = directory + "/" + name
                guard RuleLoader.isSigmaFile(path) || path.hasSuffix(".xml") else { continue }
                documents.append((path, Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
            }
        }
        // Broken ones and a repeated one among them.
        documents.insert(("bad.yml", Array("title: [unclosed".utf8)), at: 3)
        documents.insert(("bad.xml", Array("<Rules><Rule>".utf8)), at: 10)
        documents.append(documents[5])
        #expect(documents.count >= 100)
        #expect(documents.count >= RuleLoader.minimumDocumentsForTwoThreads)

        let references = [documents[0].file: "https://example.org/first.yml"]
        let together = RuleLoader.parseEach(documents, sourceReferences: references)
        #expect(together.count == documents.count)
        for (k, document) in documents.enumerated() {
            let alone =
                RuleLoader.isSigmaFile(document.file)
                ? SigmaRuleDocument.parse(
                    document.bytes,
                    file: document.file,
                    sourceReference: references[document.file]
                )
                : RuleDocument.parse(document.bytes, file: document.file)
            let got = together[k]
            #expect(got.rules.map(\.id) == alone.rules.map(\.id), "\(document.file)")
            #expect(got.rules.map(\.location) == alone.rules.map(\.location), "\(document.file)")
            #expect(got.rules.map(\.sourceReference) == alone.rules.map(\.sourceReference), "\(document.file)")
            #expect(got.errors == alone.errors, "\(document.file)")
            #expect(got.warnings == alone.warnings, "\(document.file)")
            #expect(got.skipped == alone.skipped, "\(document.file)")
        }
        #expect(together[0].rules.first?.sourceReference == "https://example.org/first.yml")
        #expect(together[3].errors.first?.file == "bad.yml")
        #expect(together[10].errors.first?.file == "bad.xml")
    }
}
