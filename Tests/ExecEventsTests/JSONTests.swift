import Testing

@testable import ExecEvents

@Suite("JSON writing and reading")
struct JSONTests {
    @Test func writerEscapesAndNests() throws {
        var json = JSONWriter()
        json.beginObject()
        json.key("s")
        json.string("quote \" backslash \\ newline \n tab \t bell \u{07} é ☕")
        json.key("n")
        json.integer(-9_223_372_036_854_775_808)
        json.key("z")
        json.integer(0)
        json.key("a")
        json.beginArray()
        json.integer(1)
        json.string(bytes: [0x61, 0xff, 0x62])
        json.beginObject()
        json.endObject()
        json.null()
        json.bool(true)
        json.endArray()
        json.endObject()
        let text = String(decoding: json.bytes, as: UTF8.self)
        #expect(
            text
                == #"{"s":"quote \" backslash \\ newline \n tab \t bell \u0007 é ☕","n":-9223372036854775808,"z":0,"a":[1,"a�b",{},null,true]}"#
        )
        let parsed = try JSONValue.parse(text)
        #expect(parsed["s"] == .string("quote \" backslash \\ newline \n tab \t bell \u{07} é ☕"))
        #expect(parsed["n"] == .integer(Int64.min))
    }

    /// Commas are tracked per open container; the first 64 levels and those deeper are kept apart.
    @Test(arguments: [1, 63, 64, 65, 66, 130])
    func writerPlacesCommasAtEveryDepth(depth: Int) throws {
        var json = JSONWriter()
        var expected = ""
        for level in 0..<depth {
            if level % 2 == 0 {
                json.beginArray()
                json.integer(Int64(level))
                expected += "[\(level),"
            } else {
                json.beginObject()
                json.key("k")
                json.integer(Int64(level))
                json.key("n")
                expected += #"{"k":\#(level),"n":"#
            }
        }
        json.string("x")
        expected += #""x""#
        for level in (0..<depth).reversed() {
            if level % 2 == 0 {
                json.endArray()
                expected += "]"
            } else {
                json.endObject()
                expected += "}"
            }
        }
        #expect(String(decoding: json.bytes, as: UTF8.self) == expected)
        json.removeAll()
        json.beginArray()
        json.integer(1)
        json.integer(2)
        json.endArray()
        #expect(String(decoding: json.bytes, as: UTF8.self) == "[1,2]")
    }

    @Test func parserReadsEveryKindOfValue() throws {
        let value = try JSONValue.parse(#" {"a": [1, -2.5e3, "x\u00e9\ud83d\ude00", true, false, null], "b": {}} "#)
        #expect(value["a"] == .array([.integer(1), .number(-2500), .string("xé😀"), .bool(true), .bool(false), .null]))
        #expect(value["b"] == .object([]))
    }

    @Test(arguments: [
        ("{", 1), ("{\"a\" 1}", 5), ("[1,]", 3), ("\"abc", 4), ("01", 1), ("{\"a\":1} x", 8), ("nul", 0),
        ("\"\\q\"", 3), ("[1 2]", 3),
    ])
    func parserNamesWhereTheTextIsWrong(text: String, offset: Int) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        do {
            _ = try JSONValue.parse(text)
        } catch {
            #expect(error.offset == offset, "\(text): \(error)")
        }
    }

    @Test(arguments: [("1e400", 0), ("[-1e400]", 1), ("{\"t\": 1E+999}", 6)])
    func numbersBeyondADoubleAreRefusedNotInfinite(text: String, offset: Int) {
        do {
            let value = try JSONValue.parse(text)
            Issue.record("\(text) read as \(value)")
        } catch {
            #expect(error.offset == offset)
            #expect(error.reason == "number out of range")
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }
}

@Suite("Events as JSON lines")
struct ExecEventJSONTests {
    @Test func readsAttributesTimesAndNumbersInTheirUsualForms() throws {
        let json = try JSONValue.parse(
            #"{"eventTime": 1795860000.25, "user": "alice", "procName": "nc", "procId": "500", "swParam": "-l 4444", "custom": "x", "count": 3}"#
        )
        let event = try ExecEvent(json: json, defaultHostName: "h1")
        #expect(event.eventType == "LINUX_PROCESS_EXEC")
        #expect(event.eventTime.millisecondsSinceEpoch == 1_795_860_000_250)
        #expect(event.hostName == "h1")
        #expect(event.procId == 500)
        #expect(event.value(of: .other("custom")) == .string("x"))
        #expect(event.value(of: EventAttribute(name: "count")) == .integer(3))
        #expect(event.value(of: .parentProcName) == nil)

        let rfc = try ExecEvent(
            json: try JSONValue.parse(#"{"eventTime": "2026-11-28T10:00:00.000Z"}"#),
            defaultHostName: "h"
        )
        #expect(rfc.eventTime == EventTime(seconds: 1_795_860_000))
    }

    @Test func derivesSwParamAndProcNameFromArgs() throws {
        let event = try ExecEvent(
            json: try JSONValue.parse(#"{"eventTime": 0, "args": ["/usr/bin/nc", "-e", "/bin/sh"]}"#),
            defaultHostName: "h"
        )
        #expect(event.procName == "nc")
        #expect(event.swParam == "-e /bin/sh")
    }

    @Test(arguments: [
        (#"{"user": "a"}"#, "eventTime"),
        (#"{"eventTime": "yesterday"}"#, "eventTime"),
        (#"{"eventTime": 0, "procId": "abc"}"#, "procId"),
        (#"{"eventTime": 0, "args": "nc -l"}"#, "args"),
        (#"{"eventTime": 0, "argsHex": ["zz"]}"#, "argsHex"),
        (#"{"eventTime": 0, "x": {"y": 1}}"#, "x"),
    ])
    func rejectsBadEventsNamingTheAttribute(text: String, attribute: String) throws {
        let json = try JSONValue.parse(text)
        do {
            _ = try ExecEvent(json: json, defaultHostName: "h")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.attribute == attribute)
        }
    }

    @Test(arguments: [
        // The values that crashed the collector (an Int64 overflow / Double→Int64 conversion).
        #"{"eventTime": 1e300}"#, #"{"eventTime": 9223372036854775807}"#, #"{"eventTime": "nan"}"#,
        #"{"eventTime": "inf"}"#, #"{"eventTime": "-inf"}"#, #"{"eventTime": "1e300"}"#,
        #"{"eventTime": -9223372036854775808}"#, #"{"eventTime": -1}"#, #"{"eventTime": 253402300800}"#,
        #"{"eventTime": "1969-12-31T23:59:59Z"}"#, #"{"eventTime": "1970-01-01T00:30:00+01:00"}"#,
        #"{"eventTime": 1.8e16}"#,
    ])
    func refusesTimesThatAreNotFiniteOrOutsideYears1970To9999(text: String) throws {
        let json = try JSONValue.parse(text)
        do {
            let event = try ExecEvent(json: json, defaultHostName: "h")
            Issue.record("accepted \(text) as \(event.eventTime.millisecondsSinceEpoch)")
        } catch {
            #expect(error.attribute == "eventTime")
        }
    }

    @Test func acceptsTheFirstAndLastMillisecondOfTheRange() throws {
        for (text, expected) in [
            (#"{"eventTime": 0}"#, Int64(0)), (#"{"eventTime": "1970-01-01T00:00:00Z"}"#, 0),
            (#"{"eventTime": 253402300799.999}"#, 253_402_300_799_999),
            (#"{"eventTime": "9999-12-31T23:59:59.999Z"}"#, 253_402_300_799_999),
        ] {
            let event = try ExecEvent(json: try JSONValue.parse(text), defaultHostName: "h")
            #expect(event.eventTime.millisecondsSinceEpoch == expected, "\(text)")
        }
    }

    @Test func argsHexRoundTripsBytesThatAreNotUTF8() throws {
        let event = ExecEvent(
            eventTime: EventTime(seconds: 1),
            hostName: "h",
            args: [[0x6e, 0x63], [0xff, 0x00, 0x41]]
        )
        let back = try ExecEvent(json: try JSONValue.parse(event.jsonLine), defaultHostName: "other")
        #expect(back.args == event.args)
    }
}

@Suite("JSON strings escaped sixteen bytes at a time")
struct JSONEscapingTests {
    /// The plain way: byte by byte, as RFC 8259 asks, after replacing invalid UTF-8.
    private func reference(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for c in Array(String(decoding: value, as: UTF8.self).utf8) {
            switch c {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0x0a: out += Array(#"\n"#.utf8)
            case 0x0d: out += Array(#"\r"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case 0x08: out += Array(#"\b"#.utf8)
            case 0x0c: out += Array(#"\f"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array(#"\u00"#.utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xf)]]
            default: out.append(c)
            }
        }
        return out + [UInt8(ascii: "\"")]
    }

    @Test func bytesAndTextOfEveryLengthWithSpecialBytesAnywhere() {
        let alphabet: [UInt8] = Array("abcXYZ019 /-".utf8) + [0x22, 0x5c, 0x00, 0x01, 0x0a, 0x1f, 0x7f, 0x20]
        let nonASCII: [[UInt8]] = [[0xc3, 0xa9], [0xe2, 0x98, 0x95], [0xff], [0xc3], [0xf0, 0x9f, 0x98, 0x80]]
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            for round in 0..<30 {
                var value = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                if round % 3 == 0, !value.isEmpty {
                    value.insert(
                        contentsOf: nonASCII.randomElement(using: &generator)!,
                        at: Int.random(in: 0...value.count)
                    )
                }
                var bytesWriter = JSONWriter()
                bytesWriter.string(bytes: value)
                #expect(bytesWriter.bytes == reference(value), "\(value)")
                var textWriter = JSONWriter()
                textWriter.string(String(decoding: value, as: UTF8.self))
                #expect(textWriter.bytes == reference(value), "\(value)")
            }
        }
        // Plain runs longer than a word, on both sides of an escape.
        var writer = JSONWriter()
        writer.string(bytes: Array("0123456789abcdef\"0123456789abcdef\\n".utf8))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""0123456789abcdef\"0123456789abcdef\\n""#)
    }

    /// Every length around the scan's 16- and 32-byte steps, each byte that matters (0x00, 0x1F,
    /// 0x20, `"`, `\\`, 0x7F, 0x80, 0xFF, a valid and a cut UTF-8 sequence) at the first and last
    /// position and at every position of a word-sized stretch.
    @Test func specialBytesAtEveryEdgeOfEveryLength() {
        let specials: [[UInt8]] = [
            [0x00], [0x1f], [0x20], [0x22], [0x5c], [0x7f], [0x80], [0xff], [0xc3, 0xa9], [0xe2, 0x98],
        ]
        for length in 0...100 {
            let plain = [UInt8](repeating: UInt8(ascii: "x"), count: length)
            var positions = Set([0, length / 2, max(length - 1, 0)])
            if length > 40 { positions.formUnion(24..<40) }
            for special in specials {
                for position in positions.sorted() where position <= length {
                    var value = plain
                    value.insert(contentsOf: special, at: position)
                    var bytesWriter = JSONWriter()
                    bytesWriter.string(bytes: value)
                    #expect(bytesWriter.bytes == reference(value), "\(value.count) bytes, \(special) at \(position)")
                    var textWriter = JSONWriter()
                    textWriter.string(String(decoding: value, as: UTF8.self))
                    #expect(textWriter.bytes == reference(value), "\(value.count) bytes, \(special) at \(position)")
                }
            }
            var writer = JSONWriter()
            writer.string(bytes: plain)
            #expect(writer.bytes == reference(plain))
        }
    }

    /// `args` that are all ASCII take the short way (no UTF-8 check for `argsHex`); the event's
    /// JSON is the same as when each argument is checked.
    @Test func asciiArgumentsWriteNoArgsHexAndOthersDo() throws {
        let ascii: [[UInt8]] = [Array("nc".utf8), [], Array(repeating: UInt8(ascii: "x"), count: 70) + [0x09]]
        for extra: [UInt8] in [[], [0xc3, 0xa9], [0x80], Array("caf\u{e9}".utf8)] {
            let args = ascii + (extra.isEmpty ? [] : [extra])
            let event = ExecEvent(
                eventTime: EventTime(millisecondsSinceEpoch: 0),
                hostName: "h",
                args: ArgumentVector(args)
            )
            let json = try JSONValue.parse(event.jsonLine)
            let expectsHex = !args.allSatisfy { String(validating: $0, as: UTF8.self) != nil }
            #expect((json["argsHex"] != nil) == expectsHex, "\(extra)")
            #expect(json["args"] == .array(args.map { .string(String(decoding: $0, as: UTF8.self)) }))
        }
    }

    @Test func argsHexAppearsForInvalidUTF8AfterLongASCIIRuns() throws {
        for prefix in [0, 7, 8, 9, 16, 23] {
            let ascii = [UInt8](repeating: UInt8(ascii: "a"), count: prefix)
            let valid = ExecEvent(
                eventTime: EventTime(millisecondsSinceEpoch: 0),
                hostName: "h",
                args: [ascii + [0xc3, 0xa9]]
            )
            #expect(try JSONValue.parse(valid.jsonLine)["argsHex"] == nil, "prefix \(prefix)")
            for bad: [UInt8] in [[0xff], [0xc3], [0xe2, 0x98], [0xc3, 0xa9, 0x80]] {
                let event = ExecEvent(
                    eventTime: EventTime(millisecondsSinceEpoch: 0),
                    hostName: "h",
                    args: [ascii + bad]
                )
                #expect(try JSONValue.parse(event.jsonLine)["argsHex"] != nil, "prefix \(prefix), \(bad)")
            }
        }
    }

    /// Integers are written straight into the buffer: every power of ten and its neighbours, both
    /// signs and the extremes, as `String(_:)` writes them.
    @Test func integersOfEveryNumberOfDigits() {
        var values: [Int64] = [0, 1, -1, 9, -9, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var power: Int64 = 10
        while true {
            values += [power - 1, power, power + 1, -(power - 1), -power, -(power + 1)]
            let (next, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { break }
            power = next
        }
        var writer = JSONWriter()
        writer.beginArray()
        for value in values { writer.integer(value) }
        writer.endArray()
        #expect(
            String(decoding: writer.bytes, as: UTF8.self) == "[" + values.map(String.init).joined(separator: ",") + "]"
        )
    }

    /// Values of every kind, small and large, one after the other in one buffer that grows as they
    /// come (and is reused after ``JSONWriter/removeAll()``): each in its place, commas between.
    @Test func valuesOfEveryKindGrowOneBuffer() throws {
        var writer = JSONWriter(capacity: 1)
        for round in 0..<3 {
            writer.removeAll()
            var expected: [JSONValue] = []
            writer.beginArray()
            for length in [0, 1, 15, 16, 17, 100, 5000, 70000, 3, 200_000] {
                let text = String(repeating: "a\"\n", count: length / 3) + String(repeating: "é", count: length % 3)
                writer.string(text)
                writer.string(bytes: Array(text.utf8))
                writer.integer(Int64(length * (round - 1)))
                writer.beginObject()
                writer.key(plain: "k")
                writer.string(text)
                writer.key("k\"\(length)")
                writer.null()
                writer.endObject()
                expected += [
                    .string(text), .string(text), .integer(Int64(length * (round - 1))),
                    .object([("k", .string(text)), ("k\"\(length)", .null)]),
                ]
            }
            writer.endArray()
            #expect(try JSONValue.parse(String(decoding: writer.bytes, as: UTF8.self)) == .array(expected))
        }
    }

    @Test func plainKeysAndTimesAreWrittenAsTheOtherForms() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key(plain: "eventTime")
        writer.string(time: EventTime(millisecondsSinceEpoch: 1_795_860_000_250))
        writer.key("n")
        writer.integer(1)
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"eventTime":"2026-11-28T10:00:00.250Z","n":1}"#)
        writer.removeAll()
        writer.beginArray()
        writer.endArray()
        #expect(writer.bytes == Array("[]".utf8))
    }
}
