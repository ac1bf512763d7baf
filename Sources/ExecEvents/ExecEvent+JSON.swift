// JSON lines for events: the form `replay --emit events` writes and `rules test --events` reads.

extension ExecEvent {
    /// Writes the event as one JSON object whose keys are the attribute names of DESIGN.md.
    /// Absent attributes are left out. When an argument is not valid UTF-8, `args` shows it with
    /// U+FFFD and `argsHex` carries every argument's exact bytes in hex, so nothing is lost.
    /// With `derivingSwParam`, an event without `swParam` but with `args` gets the `swParam`
    /// normalization gives, written from `args` (see ``ExecEventNormalizer/derivesSwParam``).
    public func writeJSON(to json: inout JSONWriter, derivingSwParam: Bool = false) {
        json.beginObject()
        json.key(plain: "eventType")
        json.string(eventType)
        json.key(plain: "eventTime")
        json.string(time: eventTime)
        json.key(plain: "hostName")
        json.string(hostName)
        func text(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            json.key(plain: name)
            json.string(value)
        }
        func number(_ name: StaticString, _ value: Int64?) {
            guard let value else { return }
            json.key(plain: name)
            json.integer(value)
        }
        text("user", user)
        text("procName", procName)
        // Written from args (when derived and ASCII): their escaped forms are copied from it below.
        var argsInSwParam = false
        if let swParam {
            json.key(plain: "swParam")
            json.string(swParam)
        } else if derivingSwParam, let args {
            json.key(plain: "swParam")
            argsInSwParam = json.string(joining: args, from: 1)
        }
        number("procId", procId)
        number("parentProcId", parentProcId)
        text("parentProcName", parentProcName)
        text("parentExePath", parentExePath)
        text("parentCommandLine", parentCommandLine)
        text("invokedPath", invokedPath)
        text("exePath", exePath)
        text("cwd", cwd)
        number("uid", uid)
        number("euid", euid)
        number("auid", auid)
        text("loginUser", loginUser)
        text("tty", tty)
        text("auditKey", auditKey)
        if let args {
            json.key(plain: "args")
            json.beginArray()
            var allASCII = true
            args.withArguments { bytes, ends in
                for i in ends.indices {
                    if i > 0, argsInSwParam {
                        json.string(copyingJoined: i - 1)
                    } else if !json.string(reportingASCII: ArgumentVector.argument(i, in: bytes, ends: ends)) {
                        allASCII = false
                    }
                }
            }
            json.endArray()
            if !allASCII, args.contains(where: { !Self.isValidUTF8($0) }) {
                json.key(plain: "argsHex")
                json.beginArray()
                for argument in args { json.string(Self.hex(argument)) }
                json.endArray()
            }
        }
        if !extra.isEmpty {
            for (name, value) in extra.sorted(by: { $0.key < $1.key }) {
                json.key(name)
                json.value(value)
            }
        }
        json.endObject()
    }

    /// The event as one line of JSON (without the newline).
    public var jsonLine: String {
        var json = JSONWriter()
        writeJSON(to: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        // ASCII, eight bytes at a time, up to the first word with a byte above 0x7f.
        let asciiPrefix = bytes.withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= raw.count, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                i += 8
            }
            return i
        }
        var iterator = bytes[asciiPrefix...].makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A JSON event that cannot become an ``ExecEvent``: which attribute and why.
public struct ExecEventJSONError: Error, Equatable, CustomStringConvertible {
    public var attribute: String?
    public var reason: String
    public var description: String {
        if let attribute { return "attribute \"\(attribute)\": \(reason)" }
        return reason
    }
}

extension ExecEvent {
    /// Reads an event from a JSON object with attribute names as keys.
    ///
    /// `eventTime` is RFC 3339 text or epoch seconds (a number, fractions allowed); it is required.
    /// `eventType` defaults to `LINUX_PROCESS_EXEC`, `hostName` to `defaultHostName`. Numeric
    /// attributes accept numbers or decimal text. `args` is an array of strings (or `argsHex`, hex
    /// strings, which wins). When `swParam` or `procName` is absent but `args` is given, they are
    /// derived from `args` as normalization would. Other keys become extra attributes.
    public init(json: JSONValue, defaultHostName: String) throws(ExecEventJSONError) {
        guard case .object(let members) = json else {
            throw ExecEventJSONError(attribute: nil, reason: "an event must be a JSON object")
        }
        var event = ExecEvent(eventTime: EventTime(millisecondsSinceEpoch: 0), hostName: defaultHostName)
        var sawTime = false
        var argsHex: ArgumentVector?
        for (key, value) in members {
            func text() throws(ExecEventJSONError) -> String? {
                switch value {
                case .null: return nil
                case .string(let s): return s
                case .integer(let i): return String(i)
                case .number(let d): return String(d)
                case .bool(let b): return String(b)
                default: throw ExecEventJSONError(attribute: key, reason: "expected a string")
                }
            }
            func integer() throws(ExecEventJSONError) -> Int64? {
                switch value {
                case .null: return nil
                case .integer(let i): return i
                case .string(let s):
                    if let i = Int64(s) { return i }
                    throw ExecEventJSONError(attribute: key, reason: "expected an integer, got \"\(s)\"")
                default: throw ExecEventJSONError(attribute: key, reason: "expected an integer")
                }
            }
            func strings() throws(ExecEventJSONError) -> [String]? {
                if case .null = value { return nil }
                guard case .array(let elements) = value else {
                    throw ExecEventJSONError(attribute: key, reason: "expected an array of strings")
                }
                var result: [String] = []
                for element in elements {
                    guard case .string(let s) = element else {
                        throw ExecEventJSONError(attribute: key, reason: "expected an array of strings")
                    }
                    result.append(s)
                }
                return result
            }
            switch EventAttribute(name: key) {
            case .eventType: event.eventType = try text() ?? ExecEvent.execEventType
            case .eventTime:
                sawTime = true
                event.eventTime = try Self.eventTime(value, attribute: key)
            case .hostName: event.hostName = try text() ?? defaultHostName
            case .user: event.user = try text()
            case .procName: event.procName = try text()
            case .swParam: event.swParam = try text()
            case .procId: event.procId = try integer()
            case .parentProcId: event.parentProcId = try integer()
            case .parentProcName: event.parentProcName = try text()
            case .parentExePath: event.parentExePath = try text()
            case .parentCommandLine: event.parentCommandLine = try text()
            case .invokedPath: event.invokedPath = try text()
            case .exePath: event.exePath = try text()
            case .cwd: event.cwd = try text()
            case .uid: event.uid = try integer()
            case .euid: event.euid = try integer()
            case .auid: event.auid = try integer()
            case .loginUser: event.loginUser = try text()
            case .tty: event.tty = try text()
            case .auditKey: event.auditKey = try text()
            case .args: event.args = try strings().map { ArgumentVector($0.map(\.utf8)) }
            case .other("argsHex"):
                guard let hexes = try strings() else { break }
                var decoded = ArgumentVector()
                for h in hexes {
                    guard let bytes = Self.unhex(h) else {
                        throw ExecEventJSONError(attribute: key, reason: "not hex: \"\(h)\"")
                    }
                    decoded.append(bytes)
                }
                argsHex = decoded
            case .other(let name):
                switch value {
                case .null: break
                case .integer(let i): event.extra[name] = .integer(i)
                case .string(let s): event.extra[name] = .string(s)
                case .number(let d): event.extra[name] = .string(String(d))
                case .bool(let b): event.extra[name] = .string(String(b))
                case .array, .object:
                    throw ExecEventJSONError(attribute: key, reason: "expected a string or a number")
                }
            }
        }
        guard sawTime else { throw ExecEventJSONError(attribute: "eventTime", reason: "missing") }
        if let argsHex { event.args = argsHex }
        if let args = event.args {
            if event.swParam == nil { event.swParam = args.joinedText(from: 1) }
            if event.procName == nil, let first = args.first {
                event.procName = String(decoding: first.split(separator: UInt8(ascii: "/")).last ?? [], as: UTF8.self)
            }
        }
        self = event
    }

    /// `eventTime` as RFC 3339 text or epoch seconds (a number or decimal text, fractions allowed),
    /// refused unless it is finite and within ``EventTime/acceptedMilliseconds`` (years 1970–9999).
    private static func eventTime(_ value: JSONValue, attribute: String) throws(ExecEventJSONError) -> EventTime {
        let time: EventTime?
        switch value {
        case .string(let s):
            if let t = EventTime(rfc3339: s) {
                time = t
            } else if let seconds = Double(s) {
                time = EventTime(acceptedEpochSeconds: seconds)
            } else {
                throw ExecEventJSONError(
                    attribute: attribute,
                    reason: "not an RFC 3339 time (years 1970–9999) or epoch seconds: \"\(s)\""
                )
            }
        case .integer(let seconds): time = EventTime(acceptedSeconds: seconds)
        case .number(let seconds): time = EventTime(acceptedEpochSeconds: seconds)
        default: throw ExecEventJSONError(attribute: attribute, reason: "expected RFC 3339 text or epoch seconds")
        }
        guard let time else {
            throw ExecEventJSONError(
                attribute: attribute,
                reason: "out of range: expected \(EventTime.acceptedRangeDescription), got \(Self.shortened(value))"
            )
        }
        return time
    }

    /// A JSON scalar as an error message shows it: at most 40 characters.
    private static func shortened(_ value: JSONValue) -> String {
        let text: String
        switch value {
        case .string(let s): text = "\"\(s)\""
        case .integer(let i): text = String(i)
        case .number(let d): text = String(d)
        default: text = "a value"
        }
        return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }

    static func unhex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = hexDigitValue(utf8[i]), let lo = hexDigitValue(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// The value of one hexadecimal digit (either case), or nil.
@inline(__always)
public func hexDigitValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}
