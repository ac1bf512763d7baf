import Capture
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Gives back the pages of program code that only starting up touched.
///
/// The agent is one statically linked binary (about 30 MB of code and read-only data). Starting
/// (parsing the configuration, loading rules and the probe, opening the journal) touches about
/// half of it, and the kernel maps more around each page touched; afterwards capture runs in well
/// under a megabyte of it. Those pages stay counted in the agent's resident set until dropped.
/// `release()` drops every mapping of a file that is private, not writable and holds no page the
/// process changed (smaps' `Anonymous: 0 kB`): its pages are the file's own bytes, so nothing is
/// lost, and code still in use is read back from the page cache at its next use.
///
/// The agent releases twice: before choosing its source (what reading the configuration, the rules
/// and the journal touched goes before the probe and its ring come in, which keeps the peak low),
/// and once the source is set up.
enum StartupCodePages {
    private static let total = Atomic<Int>(0)

    /// The resident bytes released so far in this process.
    static var released: Int { total.load(ordering: .relaxed) }

    /// Drops those mappings' pages (`MADV_DONTNEED`); returns the resident bytes they held.
    @discardableResult
    static func release(smapsPath: String = "/proc/self/smaps") -> Int {
        guard let text = SmallProcFile.bytes(smapsPath, limit: 16 << 20) else { return 0 }
        var released = 0
        for mapping in mappings(inSmaps: text) where mapping.isUnchangedFileCode {
            let length = mapping.end - mapping.start
            if madvise(UnsafeMutableRawPointer(bitPattern: mapping.start), length, MADV_DONTNEED) == 0 {
                released += mapping.residentBytes
            }
        }
        total.add(released, ordering: .relaxed)
        return released
    }

    /// One mapping of `/proc/self/smaps`, with what deciding needs.
    struct Mapping: Equatable {
        var start: Int
        var end: Int
        /// `r-xp`, `r--p`, ...
        var permissions: String
        /// The mapped file's path; empty or `[name]` for memory that is not a file's.
        var path: String
        var residentBytes: Int = 0
        /// Pages of it the process changed (copied on write): those must not be dropped.
        var anonymousBytes: Int = -1

        /// A private, read-only mapping of a file, with no page changed: dropping it loses nothing.
        var isUnchangedFileCode: Bool {
            // On bytes: `String.contains("w")` would be Foundation's (seen through the modules
            // this one imports), which links Foundation's internationalization and ICU.
            let flags = Array(permissions.utf8)
            return path.utf8.first == UInt8(ascii: "/") && flags.count == 4 && !flags.contains(UInt8(ascii: "w"))
                && flags[3] == UInt8(ascii: "p") && anonymousBytes == 0 && residentBytes > 0
        }
    }

    /// The mappings `smaps` lists, with their `Rss` and `Anonymous` sizes.
    static func mappings(inSmaps text: [UInt8]) -> [Mapping] {
        var result: [Mapping] = []
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.last == UInt8(ascii: ":") {
                guard !result.isEmpty, fields.count >= 2,
                    let kibibytes = Int(String(decoding: fields[1], as: UTF8.self))
                else { continue }
                switch String(decoding: first, as: UTF8.self) {
                case "Rss:": result[result.count - 1].residentBytes = kibibytes * 1024
                case "Anonymous:": result[result.count - 1].anonymousBytes = kibibytes * 1024
                default: break
                }
                continue
            }
            let range = first.split(separator: UInt8(ascii: "-"))
            guard range.count == 2, fields.count >= 5,
                let start = Int(String(decoding: range[0], as: UTF8.self), radix: 16),
                let end = Int(String(decoding: range[1], as: UTF8.self), radix: 16), end > start
            else { continue }
            // The path is everything after the fifth field (it may contain spaces).
            var path = ""
            if fields.count > 5 { path = String(decoding: line[fields[5].startIndex...], as: UTF8.self) }
            result.append(
                Mapping(start: start, end: end, permissions: String(decoding: fields[1], as: UTF8.self), path: path)
            )
        }
        return result
    }
}
