import ExecEvents
import Foundation
import Testing

@testable import AuditRecords

/// Logs written by other projects (`../shared/corpora`): every file is read without a crash, and
/// wherever laurel's JSON sits beside a record file, the argv decoded here equals laurel's `ARGV`.
@Suite("Conformance with public audit corpora")
struct CorporaConformanceTests {
    static func corpusFiles() -> [URL] {
        guard TestPaths.corporaPresent,
            let enumerator = FileManager.default.enumerator(at: TestPaths.corpora, includingPropertiesForKeys: nil)
        else { return [] }
        return enumerator.compactMap { $0 as? URL }.filter { !$0.hasDirectoryPath }.sorted { $0.path < $1.path }
    }

    @Test func corporaArePresentBesideTheRepository() {
        // The corpora are part of the shared folder CI lays beside the clone; if they vanish,
        // the conformance tests below would silently test nothing.
        #expect(TestPaths.corporaPresent, "expected \(TestPaths.corpora.path)")
        #expect(Self.corpusFiles().count > 30)
    }

    @Test(arguments: corpusFiles())
    func everyCorpusFileReplaysWithoutCrashing(file: URL) throws {
        let result = try replay(file: file)
        let s = result.statistics
        #expect(s.records >= s.malformedRecords)
        #expect(result.events.count == s.execs)
        // In audit logs proper (not JSON or golden files), the only malformed lines are those
        // that have no `msg=audit(…)` header at all (e.g. `type=UNKNOWN[1329] msg=?` in rhel7).
        let isLog = ["log", "txt"].contains(file.pathExtension) && !file.lastPathComponent.hasPrefix("README")
        if isLog {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            let headerless = text.split(separator: "\n").filter { !$0.contains("msg=audit(") }.count
            #expect(s.malformedRecords == headerless, "\(file.lastPathComponent): \(result.malformed.prefix(3))")
        }
        for event in result.events {
            // Every event serializes to valid JSON.
            _ = try JSONValue.parse(event.jsonLine)
        }
    }

    /// Pairs of (record file, laurel JSON) in the laurel corpus.
    static func laurelPairs() -> [String] {
        guard TestPaths.corporaPresent else { return [] }
        let folder = TestPaths.corpora.appendingPathComponent("laurel")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && names.contains(String($0.dropLast(5)) + ".txt") }.sorted()
    }

    @Test func laurelOracleCoversExecveRecords() {
        #expect(Self.laurelPairs().contains("record-execve-long.json"))
        #expect(Self.laurelPairs().contains("record-execve.json"))
    }

    @Test(arguments: laurelPairs())
    func argvEqualsLaurels(jsonName: String) throws {
        let folder = TestPaths.corpora.appendingPathComponent("laurel")
        let records = folder.appendingPathComponent(String(jsonName.dropLast(5)) + ".txt")
        let result = try replay(file: records)
        let ours = Dictionary(zip(result.serials, result.events), uniquingKeysWith: { a, _ in a })

        let jsonText = try String(contentsOf: folder.appendingPathComponent(jsonName), encoding: .utf8)
        var compared = 0
        for line in jsonText.split(separator: "\n") where !line.isEmpty {
            let object = try JSONValue.parse(String(line))
            guard case .string(let id)? = object["ID"], let serial = UInt64(id.split(separator: ":").last ?? ""),
                case .array(let argv)? = object["EXECVE"]?["ARGV"]
            else { continue }
            let expected = try argv.map { element -> [UInt8] in
                guard case .string(let s) = element else { throw ConformanceError.notAString }
                return try decodeLaurelEscapes(s)
            }
            // laurel shows execs whether they succeeded or not; we emit successful ones.
            guard case .string("yes")? = object["SYSCALL"]?["success"] else { continue }
            let event = try #require(ours[serial], "no event for serial \(serial) in \(records.lastPathComponent)")
            #expect(event.args == ArgumentVector(expected), "argv of serial \(serial)")
            compared += 1
        }
        #expect(compared > 0 || !jsonText.contains("\"EXECVE\""))
    }
}

enum ConformanceError: Error {
    case notAString
    case badEscape(String)
}

/// laurel writes control bytes, invalid UTF-8 and `%` itself as `%XX`.
func decodeLaurelEscapes(_ text: String) throws -> [UInt8] {
    let utf8 = Array(text.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < utf8.count {
        if utf8[i] == UInt8(ascii: "%") {
            guard i + 2 < utf8.count, let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2]) else {
                throw ConformanceError.badEscape(text)
            }
            out.append(hi << 4 | lo)
            i += 3
        } else {
            out.append(utf8[i])
            i += 1
        }
    }
    return out
}
