import ExecEvents
import Testing

@testable import AuditRecords

private func execWithExecve(_ execveBodies: [String], serial: Int = 42) -> String {
    var lines = [
        "type=SYSCALL msg=audit(1700000000.100:\(serial)): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=9 uid=0 comm=\"x\" exe=\"/usr/bin/x\""
    ]
    for body in execveBodies { lines.append("type=EXECVE msg=audit(1700000000.100:\(serial)): \(body)") }
    lines.append("type=EOE msg=audit(1700000000.100:\(serial)):")
    return lines.joined(separator: "\n")
}

@Suite("EXECVE argument decoding")
struct ExecveArgumentTests {
    @Test func longArgumentSplitIntoHexChunksIsJoined() throws {
        let argument = [UInt8](repeating: UInt8(ascii: "A"), count: 10_000) + [0xff, 0x20, 0x41]
        let hex = hexString(argument).uppercased()
        let firstHalf = String(hex.prefix(7_500))
        let secondHalf = String(hex.dropFirst(7_500))
        let text = execWithExecve([
            "argc=3 a0=\"x\" a1_len=\(hex.count) a1[0]=\(firstHalf)",
            " a1[1]=\(secondHalf) a2=\"tail\"",
        ])
        let event = try #require(replay(text: text).events.first)
        #expect(event.args?.count == 3)
        #expect(event.args?[1] == argument)
        #expect(event.args?[2].text == "tail")
    }

    @Test func quotedChunksAndChunksOutOfOrderAreJoinedInChunkOrder() throws {
        let text = execWithExecve([
            "argc=2 a0=\"x\" a1_len=9 a1[1]=\"def\"",
            " a1[2]=646566 a1[0]=\"abc\"",
        ])
        let event = try #require(replay(text: text).events.first)
        #expect(event.args?.map(\.text) == ["x", "abcdefdef"])
    }

    @Test func argumentsSpreadOverSeveralRecordsOnlyFirstHasArgc() throws {
        let count = 3000
        var bodies: [String] = []
        var current = "argc=\(count)"
        for i in 0..<count {
            current += " a\(i)=\"arg\(i)\""
            if i % 500 == 499 {
                bodies.append(current)
                current = ""
            }
        }
        if !current.isEmpty { bodies.append(current) }
        let event = try #require(replay(text: execWithExecve(bodies)).events.first)
        #expect(event.args?.count == count)
        #expect(event.args?.last?.text == "arg2999")
        #expect(event.swParam?.hasPrefix("arg1 arg2 arg3") == true)
    }

    @Test func argcLargerThanFieldsPresentGivesEmptyArguments() throws {
        let event = try #require(replay(text: execWithExecve(["argc=4 a0=\"x\" a2=\"two\""])).events.first)
        #expect(event.args?.map(\.text) == ["x", "", "two", ""])
        #expect(event.swParam == " two ")
    }

    @Test func invalidUTF8IsKeptByteForByte() throws {
        let event = try #require(replay(text: execWithExecve(["argc=3 a0=\"x\" a1=61FF62 a2=FFFE"])).events.first)
        #expect(event.args?[1] == [0x61, 0xff, 0x62])
        #expect(event.args?[2] == [0xff, 0xfe])
        #expect(event.swParam == "a\u{FFFD}b \u{FFFD}\u{FFFD}")
        // The JSON form keeps the exact bytes next to the readable text.
        let json = try JSONValue.parse(event.jsonLine)
        #expect(json["argsHex"] == .array([.string("78"), .string("61ff62"), .string("fffe")]))
    }

    @Test func emptyArgumentsAndNullAreEmpty() throws {
        let event = try #require(replay(text: execWithExecve(["argc=3 a0=\"x\" a1=\"\" a2=(null)"])).events.first)
        #expect(event.args?.map(\.count) == [1, 0, 0])
        #expect(event.swParam == " ")
    }

    @Test func badHexIsCountedAsAMalformedFieldAndKeptAsText() throws {
        let result = replay(text: execWithExecve(["argc=2 a0=\"x\" a1=ZZZ"]))
        #expect(result.events.first?.args?[1].text == "ZZZ")
        #expect(result.malformedFields == 1)
    }

    @Test func absurdArgumentIndexIsRefusedNotAllocated() throws {
        let result = replay(text: execWithExecve(["argc=2 a0=\"x\" a99999999999=\"y\" a1=\"z\""]))
        #expect(result.events.first?.args?.map(\.text) == ["x", "z"])
        #expect(result.malformedFields == 1)
    }

    @Test func chunkNumberBeyondAnyIntIsAMalformedFieldNotATrap() throws {
        // 20 digits fit a UInt64 but not an Int: converting it used to trap.
        let result = replay(
            text: execWithExecve(["argc=2 a0=\"x\" a1_len=1 a1[18446744073709551615]=\"y\" a1[0]=\"z\""])
        )
        #expect(result.events.first?.args?.map(\.text) == ["x", "z"])
        #expect(result.malformedFields == 1)
    }
}

/// Hex decoded the plain way: two digits a byte; nil unless even-length hex.
private func plainHex(_ text: [UInt8]) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    for k in stride(from: 0, to: text.count, by: 2) {
        guard let hi = hexValue(text[k]), let lo = hexValue(text[k + 1]) else { return nil }
        out.append(hi << 4 | lo)
    }
    return out
}

@Suite("Hex decoding, thirty-two digits at a time")
struct HexDecodingTests {
    private func reference(_ text: [UInt8]) -> [UInt8]? { plainHex(text) }

    @Test func everyLengthAndEveryDigitInEitherCase() {
        let digits = Array("0123456789abcdefABCDEF".utf8)
        var generator = SystemRandomNumberGenerator()
        for length in stride(from: 0, through: 100, by: 2) {
            for _ in 0..<20 {
                let text = (0..<length).map { _ in digits.randomElement(using: &generator)! }
                let decoded = text.withUnsafeBytes { decodeHex($0) }
                #expect(decoded == reference(text), "\(String(decoding: text, as: UTF8.self))")
            }
        }
        let all = (0...255).map { UInt8($0) }
        #expect(Array(hexString(all).uppercased().utf8).withUnsafeBytes { decodeHex($0) } == all)
    }

    @Test func anyOtherByteAnywhereIsRefused() {
        // 74 digits: two blocks of 32, a word of 8 and a pair, each with its own check.
        let valid = Array("0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdefABCDEF01234567".utf8)
        for position in valid.indices {
            for byte in UInt8.min...UInt8.max where hexValue(byte) == nil {
                var text = valid
                text[position] = byte
                #expect(text.withUnsafeBytes { decodeHex($0) } == nil, "byte \(byte) at \(position)")
            }
        }
        #expect(Array("abc".utf8).withUnsafeBytes { decodeHex($0) } == nil, "odd length")
    }

    /// Chunks appended to an argument (``appendDecodedHex(_:to:)``) longer than its stack block,
    /// and a bad digit late in a long chunk: nothing of that chunk is kept.
    @Test func appendedChunksOfAnyLengthAndABadOneAppendNothing() {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789ABCDEF".utf8)
        for length in [0, 2, 30, 32, 34, 2046, 2048, 2050, 4096, 7_500] {
            let text = (0..<length).map { _ in digits.randomElement(using: &generator)! }
            var out: [UInt8] = [1, 2, 3]
            #expect(text.withUnsafeBytes { appendDecodedHex($0, to: &out) })
            #expect(out == [1, 2, 3] + reference(text)!, "\(length) digits")
            guard length > 0 else { continue }
            var bad = text
            bad[length - 1] = UInt8(ascii: "G")
            #expect(!bad.withUnsafeBytes { appendDecodedHex($0, to: &out) })
            #expect(out == [1, 2, 3] + reference(text)!, "\(length) digits, the last one bad")
        }
    }

    /// Many chunks appended to one buffer that starts small (no `aN_len`): it grows as they
    /// come, keeps every chunk in order, and a bad chunk between them leaves no trace.
    @Test func manyChunksGrowOneBuffer() {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdefABCDEF".utf8)
        var out: [UInt8] = []
        var expected: [UInt8] = []
        for round in 0..<200 {
            let length = 2 * Int.random(in: 0...600, using: &generator)
            let text = (0..<length).map { _ in digits.randomElement(using: &generator)! }
            if round % 17 == 5, length > 0 {
                var bad = text
                bad[Int.random(in: 0..<length, using: &generator)] = UInt8(ascii: "g")
                #expect(!bad.withUnsafeBytes { appendDecodedHex($0, to: &out) })
            }
            #expect(text.withUnsafeBytes { appendDecodedHex($0, to: &out) })
            expected += reference(text)!
        }
        #expect(out == expected)
    }

    /// ``appendHexValue(in:from:to:)`` against the value as the scanner ends it (at a space or
    /// a 0x1d byte) decoded the plain way: every length, every terminator, a bad byte anywhere.
    @Test func oneValueDecodedWhileItsEndIsFound() {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdefABCDEF".utf8)
        let others: [UInt8] = [
            0x20, 0x1d, UInt8(ascii: "\""), UInt8(ascii: "g"), UInt8(ascii: "="), 0x0a, 0x80, 0xff, 0,
        ]
        for length in 0...140 {
            for round in 0..<12 {
                var value = (0..<length).map { _ in digits.randomElement(using: &generator)! }
                if round % 3 == 1, length > 0 {
                    value[Int.random(in: 0..<length, using: &generator)] = others.randomElement()!
                }
                let prefix = Array("a1[0]=".utf8)
                var body = prefix + value
                if round % 2 == 0 { body += [others.randomElement(using: &generator)!] + Array("x=1".utf8) }
                // The reference: the value up to the first space or 0x1d, ended by a space or the end.
                let valueEnd = body[prefix.count...].firstIndex { $0 == 0x20 || $0 == 0x1d } ?? body.count
                let text = Array(body[prefix.count..<valueEnd])
                let endedPlainly = valueEnd == body.count || body[valueEnd] == 0x20
                let expected = endedPlainly ? reference(text).map { (valueEnd, $0) } : nil
                var out: [UInt8] = [7, 7]
                let end = body.withUnsafeBytes { appendHexValue(in: $0, from: prefix.count, to: &out) }
                let got = end.map { ($0, Array(out.dropFirst(2))) }
                #expect(got?.0 == expected?.0 && got?.1 == expected?.1, "\(String(decoding: body, as: UTF8.self))")
                if end == nil { #expect(out == [7, 7], "nothing appended") }
            }
        }
        // Values too short for a pair of digits, into a buffer without storage.
        for (body, expected) in [("a1[0]=", 6), ("a1[0]=6", nil), ("a1[0]= ", 6), ("a1[0]=x", nil), ("a1[0]=61", 8)] {
            var empty: [UInt8] = []
            let end = Array(body.utf8).withUnsafeBytes { appendHexValue(in: $0, from: 6, to: &empty) }
            #expect(end == expected, "\(body)")
        }
    }

    @Test func chunksInOrderThenARepeatedOneKeepTheLastCopy() throws {
        let text = execWithExecve([
            "argc=2 a0=\"x\" a1_len=12 a1[0]=616263 a1[1]=646566",
            " a1[0]=414243",
        ])
        let event = try #require(replay(text: text).events.first)
        #expect(event.args?.map(\.text) == ["x", "ABCdef"])
    }

    /// Chunks read in one pass (``ExecveArguments/appendHexChunk(_:at:)``) and the ones it
    /// leaves to the scanner: odd, empty, ended by translations, quoted, numbers too long.
    @Test func chunksReadInOnePassAndTheOnesLeftToTheScanner() throws {
        let cases: [(String, [String], Int)] = [
            ("a1_len=6 a1[0]=616263 a1[1]=646566", ["x", "abcdef"], 0),
            ("a2_len=2 a2[0]=6162", ["x", "", "ab"], 0),
            ("a2[0]=6", ["x", "", "6"], 1),
            ("a2[0]= a2[1]=61", ["x", "", "a"], 0),
            ("a1[0]=6162 a1[1]= a1[2]=63", ["x", "abc"], 0),
            ("a1[0]=616 a1[1]=62", ["x", "616b"], 1),
            ("a1[0]=6162\u{1d}A1=\"q\" a1[1]=63", ["x", "ab"], 0),
            ("a01[00]=6162 a1[1]=\"c\"", ["x", "abc"], 0),
            ("a1[0000000]=6162 a1[1]=63", ["x", "abc"], 0),
            ("a1[0]=61 a1[2]=63 a1[1]=62", ["x", "abc"], 0),
            ("a1[0]=61 a2=62", ["x", "a", "b"], 0),
            ("a1[1]=62 a1[0]=61", ["x", "ab"], 0),
        ]
        for (fields, args, malformed) in cases {
            // Chunks are looked for after an `aN_len`, as the kernel writes them.
            let result = replay(text: execWithExecve(["argc=\(args.count) a0=\"x\" a1_len=3 " + fields]))
            #expect(result.events.first?.args?.map(\.text) == args, "\(fields)")
            #expect(result.malformedFields == malformed, "\(fields)")
        }
    }

    @Test func aBadChunkInOrderIsCountedAndKeptAsText() throws {
        let result = replay(text: execWithExecve(["argc=2 a0=\"x\" a1_len=9 a1[0]=616263 a1[1]=ZZZ a1[2]=\"q\""]))
        #expect(result.events.first?.args?.map(\.text) == ["x", "abcZZZq"])
        #expect(result.malformedFields == 1)
    }
}

@Suite("Field scanning, eight bytes at a time and memchr for long values")
struct FieldScannerTests {
    /// The fields as a byte-by-byte reading sees them: (key, value, translated).
    private func reference(_ body: [UInt8]) -> [(String, String, Bool)] {
        var fields: [(String, String, Bool)] = []
        var i = 0
        var translated = false
        while i < body.count {
            while i < body.count, [0x1d, 0x20, 0x0a, 0x0d].contains(body[i]) {
                if body[i] == 0x1d { translated = true }
                i += 1
            }
            let keyStart = i
            while i < body.count, ![UInt8(ascii: "="), 0x20, 0x1d].contains(body[i]) { i += 1 }
            guard i < body.count, body[i] == UInt8(ascii: "=") else { continue }
            let key = String(decoding: body[keyStart..<i], as: UTF8.self)
            i += 1
            let valueStart = i
            while i < body.count, body[i] != 0x20, body[i] != 0x1d { i += 1 }
            fields.append((key, String(decoding: body[valueStart..<i], as: UTF8.self), translated))
        }
        return fields
    }

    private func scanned(_ body: [UInt8]) -> [(String, String, Bool)] {
        body.withUnsafeBytes { raw in
            var scanner = AuditFieldScanner(raw)
            var fields: [(String, String, Bool)] = []
            while let field = scanner.next() {
                fields.append(
                    (
                        String(decoding: field.key, as: UTF8.self), String(decoding: field.value, as: UTF8.self),
                        field.isTranslated
                    )
                )
            }
            return fields
        }
    }

    /// Quoted values are searched eight bytes at a time for their first 32 bytes, then with memchr:
    /// every length around those steps, either quote (the other one inside taken literally),
    /// closed, or running to the end of the record.
    @Test func everyQuotedValueLengthWithEitherQuoteClosedOrNot() {
        for valueLength in [0, 1, 6, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 39, 40, 41, 64, 100, 1000] {
            for (quote, other) in [("\"", "'"), ("'", "\"")] {
                let inner = valueLength == 0 ? "" : other + String(repeating: "v", count: valueLength - 1)
                let text = "a=\(quote)\(inner)\(quote) b=1 c=\(quote)\(inner)"
                let fields = scanned(Array(text.utf8))
                #expect(fields.map(\.0) == ["a", "b", "c"], "\(text)")
                #expect(fields.map(\.1) == [inner, "1", inner], "\(text)")
            }
        }
    }

    @Test func everyKeyAndValueLengthWithEveryTerminator() {
        for keyLength in 1...10 {
            for valueLength in [0, 1, 7, 8, 9, 31, 32, 33, 40, 64, 100, 1000] {
                for terminator in ["", " ", "\u{1d}", " \u{1d}", "\u{1d} "] {
                    let key = String(repeating: "k", count: keyLength)
                    let value = String(repeating: "4", count: valueLength)
                    // A space or 0x1d inside a long value's tail, after the first 32 bytes.
                    let text = "\(key)=\(value)\(terminator)x=1 \(key)=\(value)\u{1d}\(value) UID=ab y=2"
                    let body = Array(text.utf8)
                    let expected = reference(body)
                    let fields = scanned(body)
                    #expect(fields.count == expected.count, "\(text)")
                    for (a, b) in zip(fields, expected) { #expect(a == b, "\(text)") }
                }
            }
        }
    }
}

@Suite("Whole arguments read without the field scanner")
struct WholeArgumentTests {
    /// The argv as the field scanner and the plain rules give it: quoted values literal, bare
    /// values hex (`(null)` empty; anything else a malformed field kept as text), the last of a
    /// repeated index winning, an argument given in chunks (`aN[k]`) their concatenation in chunk
    /// order (the last copy of each) whether or not it was also given whole, `argc` padding or
    /// cutting the list.
    private func reference(_ body: [UInt8]) -> (arguments: [[UInt8]], malformedFields: Int) {
        var arguments: [[UInt8]] = []
        var chunked: [Int: [Int: [UInt8]]] = [:]
        var declaredCount: Int?
        var malformed = 0
        body.withUnsafeBytes { raw in
            var scanner = AuditFieldScanner(raw)
            while let field = scanner.next() {
                if field.isTranslated { continue }
                let key = Array(field.key)
                let value = Array(field.value)
                if key == Array("argc".utf8) {
                    if let count = Int(String(decoding: value, as: UTF8.self)) {
                        declaredCount = count
                    } else {
                        malformed += 1
                    }
                    continue
                }
                guard key.count >= 2, key[0] == UInt8(ascii: "a") else { continue }
                var digits = key.dropFirst()
                var chunk: Int?
                if let open = digits.firstIndex(of: UInt8(ascii: "[")) {
                    let number = digits[(open + 1)...].dropLast()
                    guard digits.last == UInt8(ascii: "]"), !number.isEmpty,
                        number.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                    else {
                        malformed += 1
                        continue
                    }
                    chunk = Int(String(decoding: number, as: UTF8.self))
                    digits = digits[..<open]
                } else if digits.count > 4, Array(digits.suffix(4)) == Array("_len".utf8) {
                    continue
                }
                guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let index = Int(String(decoding: digits, as: UTF8.self)), index < ExecveArguments.maximumCount
                else {
                    malformed += 1
                    continue
                }
                var bytes = value
                if !field.isQuoted {
                    if value == Array("(null)".utf8) {
                        bytes = []
                    } else if let decoded = plainHex(value) {
                        bytes = decoded
                    } else {
                        malformed += 1
                    }
                }
                if index >= arguments.count { arguments += Array(repeating: [], count: index - arguments.count + 1) }
                if let chunk {
                    chunked[index, default: [:]][chunk] = bytes
                } else {
                    arguments[index] = bytes
                }
            }
        }
        for (index, chunks) in chunked {
            arguments[index] = chunks.keys.sorted().flatMap { chunks[$0]! }
        }
        if let declaredCount {
            arguments = Array(arguments.prefix(declaredCount))
            arguments += Array(repeating: [], count: declaredCount - arguments.count)
        }
        return (arguments, malformed)
    }

    private func decoded(_ body: [UInt8]) -> (arguments: [[UInt8]], malformedFields: Int) {
        var arguments = ExecveArguments()
        body.withUnsafeBytes { arguments.ingest(body: $0) }
        let malformed = arguments.malformedFields
        return (Array(arguments.finish()), malformed)
    }

    /// Values of every length around the scanner's steps (8, 32 bytes), quoted (closed or
    /// running to the end), hex (either case, odd, with a bad digit), `(null)`, empty, after
    /// spaces or other separators, with translations after a 0x1d byte; whole arguments and
    /// chunks in any order, repeated, after an `aN_len` or not.
    @Test func anyArgumentsAsTheScannerReadsThem() {
        var generator = SystemRandomNumberGenerator()
        let hexDigits = Array("0123456789abcdefABCDEF".utf8)
        func value(_ length: Int) -> String {
            switch Int.random(in: 0..<8, using: &generator) {
            case 0, 1: return "\"" + String(repeating: "v", count: length) + "\""
            case 2: return "\"" + String(repeating: "w", count: length)  // not closed
            case 3, 4:
                return String(
                    decoding: (0..<(2 * length)).map { _ in hexDigits.randomElement(using: &generator)! },
                    as: UTF8.self
                )
            case 5: return String(repeating: "4", count: 2 * length + 1)  // odd
            case 6: return String(repeating: "41", count: length) + "G1"  // a bad digit
            default: return ["(null)", "", "'q q'", "\"\""].randomElement(using: &generator)!
            }
        }
        let lengths = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 100]
        let separators = [" ", "  ", "", "\t", "\n", "\u{1d}"]
        for _ in 0..<2000 {
            var text = Bool.random(using: &generator) ? "argc=\(Int.random(in: 0...6, using: &generator))" : ""
            for _ in 0..<Int.random(in: 0...8, using: &generator) {
                let separator =
                    Int.random(in: 0..<6, using: &generator) == 0 ? separators.randomElement(using: &generator)! : " "
                let key = [
                    "a\(Int.random(in: 0...6, using: &generator))", "a00\(Int.random(in: 0...9, using: &generator))",
                    "a1234567", "a262144", "a", "ab",
                ]
                .randomElement(using: &generator)!
                let index = Int.random(in: 0...6, using: &generator)
                switch Int.random(in: 0..<16, using: &generator) {
                case 0, 1: text += separator + key
                case 2: text += separator + "a\(index)_len=\(Int.random(in: 0...300, using: &generator))"
                case 3...7: text += separator + "a\(index)[\(Int.random(in: 0...3, using: &generator))]"
                default: text += separator + "a\(index)"
                }
                text += "=" + value(lengths.randomElement(using: &generator)!)
            }
            let body = Array(text.utf8)
            let expected = reference(body)
            let got = decoded(body)
            #expect(got.arguments == expected.arguments, "\(text)")
            #expect(got.malformedFields == expected.malformedFields, "\(text)")
        }
    }

    @Test func quotedAndHexArgumentsMixed() {
        let body = Array("argc=5 a0=\"ls\" a1=2D6C a2=\"\" a3= a4=(null)\u{1d}a4=\"translated\"".utf8)
        let got = decoded(body)
        #expect(got.arguments == [Array("ls".utf8), Array("-l".utf8), [], [], []])
        #expect(got.malformedFields == 0)
    }
}
