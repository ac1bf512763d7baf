import RuleEngine
import Testing

@Suite struct XMLParserTests {
    @Test func parsesElementsAttributesTextAndSkipsPrologue() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE Rules [ <!ENTITY x "y"> ]>
            <!-- a comment -->
            <Rules a='single' b="double">
              <?pi something?>
              <Rule id="1">text <!-- inside --> more</Rule>
              <Empty/>
            </Rules>
            """
        let root = try XMLParser.parse(xml)
        #expect(root.name == "Rules")
        #expect(root.attribute("a")?.value.value == "single")
        #expect(root.attribute("b")?.value.value == "double")
        #expect(root.children.map(\.name) == ["Rule", "Empty"])
        #expect(root.child("Rule")?.text.value == "text  more")
        #expect(root.child("Empty")?.children.isEmpty == true)
    }

    @Test func decodesEntitiesAndCharacterReferences() throws {
        let root = try XMLParser.parse(
            "<a t=\"&quot;x&quot; &amp; &apos;\">&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x20AC;</a>"
        )
        #expect(root.text.value == "<>&\"'AB€")
        #expect(root.attribute("t")?.value.value == "\"x\" & '")
    }

    @Test func keepsCDATAVerbatim() throws {
        let root = try XMLParser.parse("<a>x <![CDATA[a < b && \"c\"]]> y</a>")
        #expect(root.text.value == "x a < b && \"c\" y")
    }

    @Test func mapsDecodedOffsetsBackToTheSource() throws {
        let source = "<a>ab&lt;cd<![CDATA[ef]]>g</a>"
        let root = try XMLParser.parse(source)
        let text = root.text
        #expect(text.value == "ab<cdefg")
        let bytes = Array(source.utf8)
        // 'c' (decoded offset 3) sits after "&lt;" in the source.
        #expect(bytes[text.sourceOffset(ofDecodedOffset: 3)] == UInt8(ascii: "c"))
        // '<' (decoded offset 2) maps to the '&' of the entity.
        #expect(bytes[text.sourceOffset(ofDecodedOffset: 2)] == UInt8(ascii: "&"))
        // 'f' (decoded offset 6) is inside the CDATA section.
        #expect(bytes[text.sourceOffset(ofDecodedOffset: 6)] == UInt8(ascii: "f"))
        #expect(bytes[text.sourceOffset(ofDecodedOffset: 7)] == UInt8(ascii: "g"))
    }

    private func error(_ xml: String) -> (SourcePosition, String)? {
        do {
            _ = try XMLParser.parse(xml)
            return nil
        } catch {
            return (SourceLocator(xml).position(ofOffset: error.offset), error.message)
        }
    }

    @Test func reportsAnUnclosedStartTag() throws {
        let e = try #require(error("<Rules>\n  <Rule id=\"1\"\n    <Name>x</Name>\n  </Rule>\n</Rules>"))
        #expect(e.0 == SourcePosition(line: 3, column: 5))
        #expect(e.1 == "expected '>' to close <Rule>")
    }

    @Test func reportsMismatchedEndTagWithBothNamesAndTheStart() throws {
        let e = try #require(error("<Rules>\n  <Rule id=\"1\">\n    <Name>x</Nam>\n  </Rule>\n</Rules>"))
        #expect(e.0 == SourcePosition(line: 3, column: 12))
        #expect(e.1 == "mismatched end tag </Nam>: expected </Name> to close <Name> opened at line 3, column 5")
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() throws {
        // Parsing recursed once per element: 100,000 nested elements overflowed the stack.
        let deep = String(repeating: "<a>", count: 100_000)
        let e = try #require(error(deep))
        #expect(e.0 == SourcePosition(line: 1, column: 3 * 257 + 1))
        #expect(e.1 == "elements nested deeper than 256 levels")
        let fine = String(repeating: "<a>", count: 257) + String(repeating: "</a>", count: 257)
        #expect(error(fine) == nil)
    }

    @Test func reportsEndOfFileInsideAnElement() throws {
        let e = try #require(error("<Rules>\n  <Rule>"))
        #expect(e.1 == "unexpected end of file: expected </Rule> to close <Rule> opened at line 2, column 3")
    }

    @Test func reportsUnknownEntitiesAndBadAttributes() throws {
        let entity = try #require(error("<a>x &nbsp; y</a>"))
        #expect(entity.0 == SourcePosition(line: 1, column: 6))
        #expect(entity.1.hasPrefix("unknown entity &nbsp;"))
        let unquoted = try #require(error("<a b=1></a>"))
        #expect(unquoted.0 == SourcePosition(line: 1, column: 6))
        let duplicate = try #require(error("<a b='1' b='2'></a>"))
        #expect(duplicate.1 == "duplicate attribute b on <a>")
        let after = try #require(error("<a></a><b/>"))
        #expect(after.1.hasPrefix("unexpected content after the root element"))
    }

    @Test func countsColumnsInCharactersNotBytes() throws {
        let e = try #require(error("<a>é€ &bad; </a>"))
        #expect(e.0 == SourcePosition(line: 1, column: 7))
    }
}
