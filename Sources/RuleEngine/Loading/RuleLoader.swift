import Dispatch
import YAML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads rule files from disk: the one I/O edge of the module.
///
/// Paths may be files or directories; a directory contributes its `*.xml` (FortiSIEM) and
/// `*.yml`/`*.yaml` (Sigma) files (not recursively), sorted by name. A file is read as Sigma when its
/// name ends in `.yml` or `.yaml`, else as FortiSIEM rule XML. Rules are returned in the order read.
/// A rule id seen a second time is an error at the second definition; the first one wins.
///
/// Where a Sigma rule comes from (``Rule/sourceReference``): when its directory holds a file
/// `.sigma-source` whose first line is a base URL (e.g.
/// `https://github.com/SigmaHQ/sigma/blob/master/rules/linux/process_creation`), the URL of the
/// file under it; else the rule file's path.
public enum RuleLoader {
    public static func load(paths: [String]) -> RuleLoadResult {
        var documents: [(file: String, bytes: [UInt8])] = []
        var errors: [RuleError] = []
        var sourceReferences: [String: String] = [:]
        for path in paths {
            let files: [String]
            do throws(RuleError) { files = try listRuleFiles(path) } catch {
                errors.append(error)
                continue
            }
            if files.count != 1 || files[0] != path, let base = sigmaSourceBase(directory: path) {
                for file in files where isSigmaFile(file) {
                    sourceReferences[file] = base + "/" + String(file.split(separator: "/").last ?? "")
                }
            }
            for file in files {
                do throws(RuleError) {
                    documents.append((file, try readFile(file)))
                } catch {
                    errors.append(error)
                }
            }
        }
        var result = load(documents: documents, sourceReferences: sourceReferences)
        result.errors.insert(contentsOf: errors, at: 0)
        return result
    }

    /// Parses documents already in memory, in order, and drops duplicate ids (first wins).
    /// `sourceReferences` gives, by file, where its Sigma rules come from (default: the file path).
    public static func load(
        documents: [(file: String, bytes: [UInt8])],
        sourceReferences: [String: String] = [:]
    ) -> RuleLoadResult {
        var result = RuleLoadResult()
        var seen: [String: RuleLocation] = [:]
        for parsed in parseEach(documents, sourceReferences: sourceReferences) {
            result.errors.append(contentsOf: parsed.errors)
            result.warnings.append(contentsOf: parsed.warnings)
            result.skipped.append(contentsOf: parsed.skipped)
            result.pendingCorrelations.append(contentsOf: parsed.pendingCorrelations)
            result.sigmaNames.merge(parsed.sigmaNames) { first, _ in first }
            for rule in parsed.rules {
                if let first = seen[rule.id] {
                    result.errors.append(
                        RuleError(
                            file: rule.location.file,
                            line: rule.location.line,
                            column: rule.location.column,
                            message:
                                "duplicate rule id \(rule.id): already defined at \(first); this definition is ignored",
                            ruleId: rule.id
                        )
                    )
                    continue
                }
                seen[rule.id] = rule.location
                result.rules.append(rule)
            }
        }
        resolveCorrelations(&result, seen: &seen)
        return result
    }

    /// Each document parsed on its own, in their order. On two threads when there are many (each
    /// parses every other document; the results are put together in order afterwards, so nothing
    /// depends on which finished first): a rule file is parsed with nothing shared, and as replay
    /// starts the second CPU is free, its reading thread waiting for the first batches to be taken.
    static func parseEach(
        _ documents: [(file: String, bytes: [UInt8])],
        sourceReferences: [String: String]
    ) -> [RuleLoadResult] {
        @Sendable func parse(_ document: (file: String, bytes: [UInt8])) -> RuleLoadResult {
            isSigmaFile(document.file)
                ? SigmaRuleDocument.parse(
                    document.bytes,
                    file: document.file,
                    sourceReference: sourceReferences[document.file]
                )
                : RuleDocument.parse(document.bytes, file: document.file)
        }
        guard documents.count >= minimumDocumentsForTwoThreads else { return documents.map(parse) }
        let slots = ParsedSlots(count: documents.count)
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            for k in stride(from: half, to: documents.count, by: 2) { slots.store(parse(documents[k]), at: k) }
        }
        return slots.take()
    }

    /// Fewer documents are parsed on the calling thread alone (a second thread's start would cost
    /// more than it saves).
    static let minimumDocumentsForTwoThreads = 8

    /// Turns the Sigma correlation rules read into engine rules over the rules they name (by
    /// `name` or `id`, in any file of the set). The rules a correlation names raise no incidents
    /// of their own unless it says `generate: true`, as the specification has it. A correlation
    /// naming another correlation is refused: the engine correlates events, not incidents.
    static func resolveCorrelations(_ result: inout RuleLoadResult, seen: inout [String: RuleLocation]) {
        var positions: [String: Int] = [:]
        for (position, rule) in result.rules.enumerated() where rule.incidentType == "SIGMA_PROCESS_CREATION" {
            positions[rule.id] = position
        }
        var correlationNames = Set<String>()
        for pending in result.pendingCorrelations {
            correlationNames.insert(pending.correlation.id)
            if let name = pending.correlation.name { correlationNames.insert(name) }
        }
        var quiet = Set<Int>()
        var generating = Set<Int>()
        for pending in result.pendingCorrelations {
            let correlation = pending.correlation
            func refuse(_ mark: YAMLMark, _ message: String) {
                result.errors.append(
                    RuleError(
                        file: pending.file,
                        line: mark.line,
                        column: mark.column,
                        message: "correlation \(correlation.id): \(message)",
                        ruleId: correlation.id
                    )
                )
            }
            var referenced: [Int] = []
            var refused = false
            for reference in correlation.references {
                let id = result.sigmaNames[reference.name] ?? reference.name
                guard let position = positions[id] else {
                    refuse(
                        reference.mark,
                        correlationNames.contains(reference.name)
                            ? "'\(reference.name)' is a correlation rule: correlations of correlations are not supported (name Sigma process_creation rules)"
                            : "no loaded Sigma process_creation rule has the name or id '\(reference.name)'"
                    )
                    refused = true
                    break
                }
                if !referenced.contains(position) {
                    referenced.append(position)
                } else if correlation.isTemporal {
                    refuse(reference.mark, "rule '\(reference.name)' is named twice in 'rules' (by name and by id)")
                    refused = true
                    break
                }
            }
            if refused { continue }
            if let first = seen[correlation.id] {
                result.errors.append(
                    RuleError(
                        file: pending.file,
                        line: correlation.mark.line,
                        column: correlation.mark.column,
                        message:
                            "duplicate rule id \(correlation.id): already defined at \(first); this definition is ignored",
                        ruleId: correlation.id
                    )
                )
                continue
            }
            let sigmaNames = result.sigmaNames
            let rule: Rule
            do {
                rule = try correlation.rule(
                    correlating: referenced.map { result.rules[$0] },
                    resolve: { sigmaNames[$0] ?? $0 },
                    file: pending.file,
                    sourceReference: pending.sourceReference
                )
            } catch {
                refuse(error.mark, error.message)
                continue
            }
            seen[rule.id] = rule.location
            result.rules.append(rule)
            if correlation.generate { generating.formUnion(referenced) } else { quiet.formUnion(referenced) }
        }
        for position in quiet.subtracting(generating) { result.rules[position].isActive = false }
        result.pendingCorrelations = []
    }

    // MARK: - Files

    /// Whether a file is read as Sigma YAML (by its name).
    static func isSigmaFile(_ path: String) -> Bool {
        path.hasSuffix(".yml") || path.hasSuffix(".yaml")
    }

    /// The base URL in `directory/.sigma-source` (first line, trailing `/` removed), if any.
    static func sigmaSourceBase(directory: String) -> String? {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let bytes: [UInt8]
        do throws(RuleError) { bytes = try readFile(prefix + ".sigma-source") } catch { return nil }
        let line = bytes.prefix { $0 != 0x0A && $0 != 0x0D }
        var text = String(decoding: line, as: UTF8.self).trimmingXMLSpace()
        while text.hasSuffix("/") { text.removeLast() }
        return text.isEmpty ? nil : text
    }

    // Typed throws, not `Result`: the first `Result<_, RuleError>` of a run cost its generic
    // metadata and a scan of every protocol conformance in the binary for `RuleError: Error`.

    /// The file itself, or a directory's rule files sorted by the bytes of their names.
    static func listRuleFiles(_ path: String) throws(RuleError) -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw systemError(path, "cannot read") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return [path] }
        guard let directory = opendir(path) else { throw systemError(path, "cannot list directory") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasSuffix(".xml") || isSigmaFile(name), !name.hasPrefix(".") { names.append(name) }
        }
        // Sorted by their bytes, compared as arrays (a sort of the strings through their UTF-8
        // views compared byte by byte through string indices, 1% of a Sigma corpus load).
        let bytes = names.map { Array($0.utf8) }
        let order = bytes.indices.sorted { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        return order.map { prefix + names[$0] }
    }

    /// A whole file, read until `read` finds its end, through a scratch buffer that is not
    /// cleared first (a zeroed 64 KiB chunk per file came to 9 MiB of memset for the Sigma corpus).
    static func readFile(_ path: String) throws(RuleError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError(path, "cannot open") }
        defer { close(fd) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        var bytes: [UInt8] = []
        while true {
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw systemError(path, "cannot read")
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<n]))
        }
    }

    private static func systemError(_ path: String, _ what: String) -> RuleError {
        let code = errno
        let reason = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return RuleError(file: path, line: 0, column: 0, message: "\(what): \(reason)")
    }
}

/// One slot per document for ``RuleLoader/parseEach(_:sourceReferences:)``.
///
/// `@unchecked Sendable`: each slot is written by one thread only, once, and all are read after
/// every writer is done (`concurrentPerform` returns when all its iterations have).
private final class ParsedSlots: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<RuleLoadResult?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func store(_ result: RuleLoadResult, at k: Int) {
        slots[k] = result
    }

    /// The results, in order (every slot stored).
    func take() -> [RuleLoadResult] {
        slots.map { $0! }
    }
}
