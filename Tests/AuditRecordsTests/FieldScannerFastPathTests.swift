import Foundation
import Testing

@testable import AuditRecords

/// ``AuditFieldScanner`` against a byte-by-byte reading of what it promises, over the records of
/// the fixtures and corpora and over generated and damaged ones: its fast path for a short field
/// after one space must find exactly what the general path finds.
@Suite("Audit field scanner against a byte-by-byte reading")
struct FieldScannerFastPathTests {
    /// A field as positions in the body: key start and length, value start and length.
    struct Found: Equatable, CustomStringConvertible {
        var key: Range<Int>
        var value: Range<Int>
        var isQuoted: Bool
        var isTranslated: Bool

        var description: String { "\(key) \(value) \(isQuoted ? "q" : "") \(isTranslated ? "t" : "")" }
    }

    /// Every field, as the scanner finds them.
    static func scanned(_ body: [UInt8]) -> [Found] {
        body.withUnsafeBytes { raw in
            var scanner = AuditFieldScanner(raw)
            var found: [Found] = []
            while let field = scanner.next() {
                found.append(
                    Found(
                        key: range(of: field.key, in: raw),
                        value: range(of: field.value, in: raw),
                        isQuoted: field.isQuoted,
                        isTranslated: field.isTranslated
                    )
                )
            }
            return found
        }
    }

    private static func range(of part: UnsafeRawBufferPointer, in body: UnsafeRawBufferPointer) -> Range<Int> {
        guard let start = part.baseAddress, let base = body.baseAddress else { return 0..<0 }
        let offset = base.distance(to: start)
        return offset..<(offset + part.count)
    }

    /// The scanner's rules, one byte at a time: separators (space, line ends, 0x1d, which starts
    /// the translations) skipped; a key up to `=`, a space or 0x1d (a token without `=` skipped);
    /// a value quoted (up to the same quote, or the end) or bare (up to a space or 0x1d).
    static func naive(_ body: [UInt8]) -> [Found] {
        var found: [Found] = []
        var i = 0
        var translated = false
        let n = body.count
        while i < n {
            while i < n, [0x20, 0x0a, 0x0d, 0x1d].contains(body[i]) {
                if body[i] == 0x1d { translated = true }
                i += 1
            }
            if i == n { break }
            let keyStart = i
            while i < n, ![UInt8(ascii: "="), 0x20, 0x1d].contains(body[i]) { i += 1 }
            guard i < n, body[i] == UInt8(ascii: "=") else { continue }
            let key = keyStart..<i
            i += 1
            if i < n, body[i] == UInt8(ascii: "\"") || body[i] == UInt8(ascii: "'") {
                let quote = body[i]
                let start = i + 1
                var end = start
                while end < n, body[end] != quote { end += 1 }
                i = min(end + 1, n)
                found.append(Found(key: key, value: start..<end, isQuoted: true, isTranslated: translated))
            } else {
                let start = i
                while i < n, body[i] != 0x20, body[i] != 0x1d { i += 1 }
                found.append(Found(key: key, value: start..<i, isQuoted: false, isTranslated: translated))
            }
        }
        return found
    }

    /// Record bodies (the part after `): `, or the whole line) of every fixture and corpus log.
    static func recordBodies() -> [[UInt8]] {
        var files =
            (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.fixtures.path))?
            .map { TestPaths.fixtures.appendingPathComponent($0) } ?? []
        if TestPaths.corporaPresent,
            let enumerator = FileManager.default.enumerator(at: TestPaths.corpora, includingPropertiesForKeys: nil)
        {
            files += enumerator.compactMap { $0 as? URL }.filter { ["log", "txt"].contains($0.pathExtension) }
        }
        var bodies: [[UInt8]] = []
        for file in files {
            guard let data = try? Data(contentsOf: file) else { continue }
            for line in data.split(separator: 0x0a) {
                let bytes = [UInt8](line)
                bodies.append(bytes)
                if let header = bytes.firstRange(of: Array("): ".utf8)) {
                    bodies.append(Array(bytes[header.upperBound...]))
                }
            }
        }
        return bodies
    }

    @Test func everyRecordOfTheFixturesAndCorporaIsScannedAsByteByByte() {
        let bodies = Self.recordBodies()
        #expect(bodies.count > 1000)
        var differences = 0
        for body in bodies where Self.scanned(body) != Self.naive(body) {
            differences += 1
            Issue.record("\(String(decoding: body, as: UTF8.self).debugDescription)")
            if differences > 5 { break }
        }
    }

    static let syscall = Array(
        ("arch=c000003e syscall=59 success=yes exit=0 a0=55ed37187c80 a1=55ed370bf390 a2=55ed370bf4b0 "
            + "a3=a33acd348b98abdc items=2 ppid=5661 pid=5669 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
            + "sgid=0 fsgid=0 tty=(none) ses=3 comm=\"python3\" exe=\"/usr/bin/python3.11\" key=\"execwatch\"\u{1d}"
            + "ARCH=x86_64 SYSCALL=execve AUID=\"root\" UID=\"root\" GID=\"root\"").utf8
    )

    /// A SYSCALL record cut before and after every position, and with bytes replaced by every
    /// byte the scanner stops at.
    @Test func aSyscallRecordCutAndDamagedEverywhere() {
        let line = Self.syscall
        for cut in 0...line.count {
            #expect(Self.scanned(Array(line[..<cut])) == Self.naive(Array(line[..<cut])))
            #expect(Self.scanned(Array(line[cut...])) == Self.naive(Array(line[cut...])))
        }
        for position in line.indices {
            for byte in Self.alphabet {
                var damaged = line
                damaged[position] = byte
                #expect(Self.scanned(damaged) == Self.naive(damaged), "\(position) \(byte)")
            }
        }
    }

    /// Bytes the scanner tells apart, and plain ones (spaces weighted: most lines are fields).
    static let alphabet: [UInt8] = Array("ab1x=\"' \t\r\n".utf8) + [0x1d, 0x00, 0xff, 0x20, 0x20, 0x3d]

    /// Random lines of every length from 0 to 300, of those bytes and of whole fields of every
    /// key and value length (a failing line is recorded).
    @Test func generatedLinesOfEveryLength() {
        var random = SystemRandomNumberGenerator()
        var differences = 0
        for length in 0...300 {
            for round in 0..<40 {
                var line: [UInt8] = []
                while line.count < length {
                    if round % 2 == 0 {
                        line.append(Self.alphabet[Int(random.next() % UInt64(Self.alphabet.count))])
                    } else {
                        // `key=value ` with lengths around a word, quoted now and then.
                        let key = Int(random.next() % 12)
                        let value = Int(random.next() % 20)
                        line += [UInt8](repeating: UInt8(ascii: "k"), count: key) + [UInt8(ascii: "=")]
                        let quote: [UInt8] = random.next() % 5 == 0 ? [UInt8(ascii: "\"")] : []
                        line += quote + [UInt8](repeating: UInt8(ascii: "v"), count: value) + quote
                        line.append(random.next() % 9 == 0 ? 0x1d : 0x20)
                    }
                }
                line.removeLast(line.count - length)
                if Self.scanned(line) != Self.naive(line) {
                    differences += 1
                    Issue.record("\(String(decoding: line, as: UTF8.self).debugDescription)")
                }
                if differences > 5 { return }
            }
        }
    }

    /// Scanning on from where a scan stopped (as the SYSCALL record's context pass does) finds
    /// the fields after it.
    @Test func scanningOnFromAnOffsetFindsTheRest() {
        Self.syscall.withUnsafeBytes { raw in
            var first = AuditFieldScanner(raw)
            var all: [String] = []
            while let field = first.next() { all.append(String(decoding: field.key, as: UTF8.self)) }
            for stop in 0...all.count {
                var scanner = AuditFieldScanner(raw)
                for _ in 0..<stop { _ = scanner.next() }
                var rest = AuditFieldScanner(raw, from: scanner.offset)
                var keys: [String] = []
                while let field = rest.next() { keys.append(String(decoding: field.key, as: UTF8.self)) }
                // Translated fields are not told so after a restart; their keys are the same.
                #expect(keys == Array(all[stop...]))
            }
        }
    }

    /// The first space (what ends a record's type name), eight bytes at a time, against a byte
    /// loop: every start and end, with a space at every place, none, or only bytes 0x1f/0x21
    /// (a borrow across bytes could mistake them for one).
    @Test func firstSpaceOfEveryLengthAndPlace() {
        for length in 0...40 {
            for space in [nil] + Array(0..<length) as [Int?] {
                for filler: UInt8 in [0x41, 0x1f, 0x21, 0xa0] {
                    var bytes = [UInt8](repeating: filler, count: length)
                    if let space { bytes[space] = 0x20 }
                    if space.map({ $0 + 3 < length }) ?? false { bytes[space! + 3] = 0x20 }
                    bytes.withUnsafeBytes { raw in
                        let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                        for from in 0...length {
                            let expected = bytes[from...].firstIndex(of: 0x20) ?? length
                            #expect(AuditFieldScanner.firstSpace(in: base, from: from, to: length) == expected)
                        }
                    }
                }
            }
        }
    }
}
