import ExecEvents

/// Finds the rules that can match an event without evaluating the others.
///
/// A rule is filed under the `eventType` and `procName` values its filter requires at top level
/// (`eventType = "X" AND procName IN ("a", "b") AND …`, quoted strings only, compared ignoring ASCII
/// case as the filter does). A rule without a `procName` requirement is filed under the program
/// names its Sigma `Image` tests require (see ``FilterNode/requiredProgramNames(readingOnly:)``)
/// and looked up by the last path component of the event's `invokedPath` and of its `exePath`,
/// since `Image` matches either; failing that, under the program names its `ParentImage` tests
/// require, looked up by the last component of `parentExePath`. A rule without any of these is
/// filed under "any". Those requirements are necessary conditions of the filter, so leaving a rule
/// out never loses a match.
///
/// A rule whose filter requires the command line or `Image` to contain one of a few texts (see
/// ``FilterNode/requiredLiterals()``) gets them as its guard: the texts of all guards are searched
/// for in one pass over the event's command line (and one over its paths), and a candidate none
/// of whose texts is there is not evaluated (``mayMatch(_:_:)``). That too is a necessary condition.
struct RuleIndex: Sendable {
    struct ProcNameBucket: Sendable {
        var byProcName = FoldedTable<[Int]>()
        var byProgramName = FoldedTable<[Int]>()
        var byParentName = FoldedTable<[Int]>()
        /// Every rule filed under some parent name, once (a probe has no parent to look up by).
        var parentNamed: [Int] = []
        var anyProcName: [Int] = []
        /// The guards of `anyProcName` and `parentNamed` together, the candidates of every probe:
        /// one test of the texts found instead of one per rule (set once the index is built).
        var everyProbeGuards = GuardUnion()
        /// `anyProcName` by guard (set once the index is built): the rules every event has as
        /// candidates are found from the texts it holds, not tested one by one.
        var anyByGuard = GuardedPositions()
    }

    /// Rules (positions, ascending) by their guards: those with none, and those whose guard has
    /// each text, by the text's id. A rule is admitted by ``mayMatch(_:_:)`` exactly when it has
    /// no guard or is listed under a text the event holds.
    struct GuardedPositions: Sendable {
        var unguarded: [Int] = []
        var byCommandLineText: [[Int]] = []
        var byImageText: [[Int]] = []

        /// Appends the rules admitted for the event (unordered; a rule with two texts found may
        /// come twice).
        func admitted(_ subject: inout FilterSubject, into buffer: inout [Int]) {
            buffer.append(contentsOf: unguarded)
            if !byCommandLineText.isEmpty {
                subject.forEachGuardLiteral(in: .commandLine) { buffer.append(contentsOf: byCommandLineText[$0]) }
            }
            if !byImageText.isEmpty {
                subject.forEachGuardLiteral(in: .image) { buffer.append(contentsOf: byImageText[$0]) }
            }
        }
    }

    /// Whether one of a list of rules has no guard or one whose texts an event holds, as one
    /// test: the ids of all their guards' texts, by text.
    struct GuardUnion: Sendable {
        var unguarded = false
        var commandLine = LiteralOccurrences(count: 0)
        var image = LiteralOccurrences(count: 0)

        /// Whether one of the rules may match, as far as their guards tell (as ``mayMatch(_:_:)``
        /// of each, with an OR).
        func admits(_ subject: inout FilterSubject) -> Bool {
            unguarded || subject.holdsAny(of: commandLine, in: .commandLine) || subject.holdsAny(of: image, in: .image)
        }
    }

    private var byEventType = FoldedTable<ProcNameBucket>()
    /// The slot of `LINUX_PROCESS_EXEC` in ``byEventType`` (nil when no rule is filed under it).
    private var execEventTypeSlot: Int?
    /// The bucket at ``execEventTypeSlot`` (empty when there is none), held apart: every event of
    /// a capture source reads it, and one read out of ``byEventType`` was copied (each of its
    /// tables retained and released) for every event.
    private var execBucket = ProcNameBucket()
    private var anyEventType = ProcNameBucket()
    /// The texts of every guard, searched for in the command line and in `Image`'s paths (an
    /// event's ``FilterSubject`` looks for them).
    private(set) var guards = GuardLiterals.none
    /// Each rule's guard: texts (ids in the set of their text), one of which must occur; those of
    /// the rule at position p are `guardTexts[guardStarts[p]..<guardStarts[p + 1]]` (none: no guard).
    private var guardTexts: [(text: GuardedText, id: Int)] = []
    private var guardStarts: [Int] = [0]
    /// Whether any rule is filed under program names (then events are looked up by their paths'
    /// last components) or under its parent's (then by the parent's): else those are not derived.
    private var filesProgramNames = false
    private var filesParentNames = false
    /// The names rules are filed under by the exec's own program (`procName` values and the names
    /// `Image` tests require), folded to lower case; not those filed under the parent's or "any".
    private(set) var namedPrograms: Set<String> = []

    init(_ rules: [(position: Int, filter: FilterExpression)]) {
        var commandLineLiterals = LiteralSet()
        var imageLiterals = LiteralSet()
        defer { guards = GuardLiterals(commandLine: commandLineLiterals, image: imageLiterals) }
        for (position, filter) in rules {
            let eventTypes = filter.requiredValues(of: .eventType)
            let procNames = filter.requiredValues(of: .procName)
            let programNames = procNames == nil ? filter.root.requiredProgramNames(readingOnly: Self.imagePaths) : nil
            let parentNames =
                procNames == nil && programNames == nil
                ? filter.root.requiredProgramNames(readingOnly: [.parentExePath]) : nil
            let names = ProgramNames(procNames: procNames, programNames: programNames, parentNames: parentNames)
            filesProgramNames = filesProgramNames || procNames == nil && programNames != nil
            filesParentNames = filesParentNames || parentNames != nil
            for name in procNames ?? programNames ?? [] { namedPrograms.insert(asciiLowercased(name)) }
            if let eventTypes {
                for eventType in Set(eventTypes) {
                    byEventType.update(eventType, default: ProcNameBucket()) { $0.add(position, names) }
                }
            } else {
                anyEventType.add(position, names)
            }
            precondition(position == guardStarts.count - 1, "rules are indexed in position order")
            for required in filter.root.requiredLiterals() ?? [] {
                let id: Int?
                switch required.text {
                case .commandLine: id = commandLineLiterals.insert(required.literal)
                case .image: id = imageLiterals.insert(required.literal)
                }
                guard let id else {  // a set full: the rule goes unguarded (the guard only saves work)
                    guardTexts.removeLast(guardTexts.count - guardStarts[position])
                    break
                }
                guardTexts.append((required.text, id))
            }
            guardStarts.append(guardTexts.count)
        }
        let counts = (commandLine: commandLineLiterals.literals.count, image: imageLiterals.literals.count)
        anyEventType.everyProbeGuards = guardUnion(of: anyEventType.anyProcName + anyEventType.parentNamed, counts)
        anyEventType.anyByGuard = guardedPositions(anyEventType.anyProcName, counts)
        var buckets = byEventType
        buckets.updateAll { bucket in
            bucket.everyProbeGuards = guardUnion(of: bucket.anyProcName + bucket.parentNamed, counts)
            bucket.anyByGuard = guardedPositions(bucket.anyProcName, counts)
        }
        byEventType = buckets
        execEventTypeSlot = byEventType.slot(of: ExecEvent.execEventType)
        if let slot = execEventTypeSlot { execBucket = byEventType[slot: slot] }
    }

    private func guardUnion(of positions: [Int], _ counts: (commandLine: Int, image: Int)) -> GuardUnion {
        var union = GuardUnion(
            commandLine: LiteralOccurrences(count: counts.commandLine),
            image: LiteralOccurrences(count: counts.image)
        )
        for position in positions {
            let range = guardStarts[position]..<guardStarts[position + 1]
            if range.isEmpty { union.unguarded = true }
            for (text, id) in guardTexts[range] {
                switch text {
                case .commandLine: union.commandLine.insert(id)
                case .image: union.image.insert(id)
                }
            }
        }
        return union
    }

    private func guardedPositions(_ positions: [Int], _ counts: (commandLine: Int, image: Int)) -> GuardedPositions {
        var filed = GuardedPositions()
        for position in positions {
            let range = guardStarts[position]..<guardStarts[position + 1]
            if range.isEmpty { filed.unguarded.append(position) }
            for (text, id) in guardTexts[range] {
                switch text {
                case .commandLine:
                    if filed.byCommandLineText.isEmpty {
                        filed.byCommandLineText = Array(repeating: [], count: counts.commandLine)
                    }
                    filed.byCommandLineText[id].append(position)
                case .image:
                    if filed.byImageText.isEmpty { filed.byImageText = Array(repeating: [], count: counts.image) }
                    filed.byImageText[id].append(position)
                }
            }
        }
        return filed
    }

    /// The attributes Sigma's `Image` reads.
    static let imagePaths: [EventAttribute] = [.invokedPath, .exePath]

    /// Whether any rule may match the event, from its `eventType`, `procName`, `invokedPath` and
    /// `exePath` alone: the sources ask with a probe that has only these (its parent's facts cost a
    /// lookup, `/proc` in live audit capture), so a rule filed under its parent's program always
    /// may; ``candidates(for:into:)`` then looks at the full event's parent.
    func hasCandidates(for event: ExecEvent) -> Bool {
        let keys = EventKeys(event, programNames: filesProgramNames, parentName: filesParentNames)
        if eventTypeBucket(of: event, satisfies: { $0.hasCandidates(keys) }) { return true }
        return anyEventType.hasCandidates(keys)
    }

    /// Whether the bucket of `event`'s type passes `test` (false when there is none): the exec
    /// type's is read in place (``execBucket``), not copied out of ``byEventType``.
    @inline(__always)
    private func eventTypeBucket(of event: ExecEvent, satisfies test: (borrowing ProcNameBucket) -> Bool) -> Bool {
        if event.eventType == ExecEvent.execEventType { return execEventTypeSlot != nil && test(execBucket) }
        guard let slot = byEventType.slot(of: event.eventType) else { return false }
        return test(byEventType[slot: slot])
    }

    /// ``hasCandidates(for:)``, and then whether one of those candidates has no guard or its guard
    /// holds in the event's paths or in `argumentArea`, its argv as the source read it (each
    /// argument NUL-terminated, the last maybe not; the event's `args` may not be derived yet):
    /// the guards see it as the argv joined by single spaces. False means ``candidates(for:into:)``
    /// of the whole event would give no rule that passes ``mayMatch(_:_:)``: the whole event's
    /// candidates are among the probe's (those filed under a parent name are all taken, the probe
    /// has no parent) and its guards read the same texts.
    func hasCandidates(for event: ExecEvent, argumentArea: [UInt8]) -> Bool {
        if guardTexts.isEmpty { return hasCandidates(for: event) }
        let keys = EventKeys(event, programNames: filesProgramNames, parentName: false)
        var subject = FilterSubject(probe: event, argumentArea: argumentArea, guards: guards)
        let admitted = eventTypeBucket(of: event) { bucket in
            bucket.everyProbeGuards.admits(&subject)
                || bucket.containsNamedCandidate(keys, where: { mayMatch($0, &subject) })
        }
        if admitted { return true }
        return anyEventType.everyProbeGuards.admits(&subject)
            || anyEventType.containsNamedCandidate(keys, where: { mayMatch($0, &subject) })
    }

    /// Whether ``hasCandidates(for:)`` holds for every exec, whatever its program: some rule is
    /// filed under "any" or under a parent name for the exec event type.
    var hasCandidatesForEveryExec: Bool {
        if let slot = execEventTypeSlot, byEventType[slot: slot].hasCandidatesForEveryProgram { return true }
        return anyEventType.hasCandidatesForEveryProgram
    }

    /// Sets `buffer` to the positions of the rules that may match the subject's event and pass
    /// ``mayMatch(_:_:)``, in ascending order, each once. Those filed under "any" are found from
    /// the guard texts the event holds (``GuardedPositions``).
    func candidates(for subject: inout FilterSubject, into buffer: inout [Int]) {
        buffer.removeAll(keepingCapacity: true)
        let keys = EventKeys(subject.event, programNames: filesProgramNames, parentName: filesParentNames)
        let eventType = subject.event.eventType
        if eventType == ExecEvent.execEventType {
            if execEventTypeSlot != nil { execBucket.candidates(keys, &subject, self, into: &buffer) }
        } else if let slot = byEventType.slot(of: eventType) {
            byEventType[slot: slot].candidates(keys, &subject, self, into: &buffer)
        }
        anyEventType.candidates(keys, &subject, self, into: &buffer)
        buffer.sort()
        // A rule filed under two program names may come from both the invoked and the resolved path.
        // (Over indices: iterating the array itself while writing to it copies it, every event.)
        var kept = 0
        for k in buffer.indices where kept == 0 || buffer[kept - 1] != buffer[k] {
            buffer[kept] = buffer[k]
            kept += 1
        }
        buffer.removeLast(buffer.count - kept)
    }

    /// Whether the candidate at `position` may match the event as far as its guard tells: true
    /// without a guard, else whether the event holds one of the guard's texts.
    func mayMatch(_ position: Int, _ subject: inout FilterSubject) -> Bool {
        let range = guardStarts[position]..<guardStarts[position + 1]
        if range.isEmpty { return true }
        for k in range {
            let (text, id) = guardTexts[k]
            if subject.holds(guardLiteral: id, in: text) { return true }
        }
        return false
    }

    /// The names a rule is filed under, the first known of them.
    struct ProgramNames {
        var procNames: [String]?
        var programNames: [String]?
        var parentNames: [String]?
    }

    /// What the index looks an event up by: its program name and paths, looked up by their last
    /// components (see ``FoldedTable/slot(ofLastComponentOf:)``: no string is made for them).
    struct EventKeys {
        var procName: String?
        /// `invokedPath` and `exePath` (nil when its last component is the same as the first's).
        var invokedPath: String?
        var exePath: String?
        var parentExePath: String?

        /// The keys of `event`; the paths only when asked for. Borrowed: an initializer's
        /// argument is otherwise passed owned, and the whole event was copied (each of its texts
        /// retained) for four of them.
        init(_ event: borrowing ExecEvent, programNames: Bool, parentName withParent: Bool) {
            procName = event.procName
            if programNames {
                invokedPath = event.invokedPath
                exePath = event.exePath
                if let invoked = invokedPath, let exe = exePath, Self.sameLastComponent(invoked, exe) { exePath = nil }
            }
            if withParent { parentExePath = event.parentExePath }
        }

        /// Whether two paths' last components have the same bytes.
        static func sameLastComponent(_ a: String, _ b: String) -> Bool {
            withUTF8Bytes(a) { a in
                withUTF8Bytes(b) { b in
                    let x = a[lastComponentStart(a)...]
                    let y = b[lastComponentStart(b)...]
                    return x.elementsEqual(y)
                }
            }
        }

        /// Where the text after the last `/` starts (0 without one; the end when it ends with `/`).
        static func lastComponentStart(_ path: UnsafeBufferPointer<UInt8>) -> Int {
            var k = path.count
            while k > 0, path[k - 1] != UInt8(ascii: "/") { k -= 1 }
            return k
        }

        /// The text after the last `/` (all of it without one; empty when it ends with `/`).
        static func lastComponent(_ path: String) -> String {
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
            return String(path[path.utf8.index(after: slash)...])
        }
    }
}

extension RuleIndex.ProcNameBucket {
    mutating func add(_ position: Int, _ names: RuleIndex.ProgramNames) {
        func file(_ names: [String], in table: inout FoldedTable<[Int]>) {
            for name in Set(names) {
                table.update(name, default: []) { if $0.last != position { $0.append(position) } }
            }
        }
        if let procNames = names.procNames {
            file(procNames, in: &byProcName)
        } else if let programNames = names.programNames {
            file(programNames, in: &byProgramName)
        } else if let parentNames = names.parentNames {
            file(parentNames, in: &byParentName)
            parentNamed.append(position)
        } else {
            anyProcName.append(position)
        }
    }

    /// Whether ``hasCandidates(_:)`` holds whatever the keys.
    var hasCandidatesForEveryProgram: Bool { !anyProcName.isEmpty || !byParentName.isEmpty }

    func hasCandidates(_ keys: RuleIndex.EventKeys) -> Bool {
        if !anyProcName.isEmpty { return true }
        if let name = keys.procName, byProcName.slot(of: name) != nil { return true }
        if let path = keys.invokedPath, byProgramName.slot(ofLastComponentOf: path) != nil { return true }
        if let path = keys.exePath, byProgramName.slot(ofLastComponentOf: path) != nil { return true }
        return !byParentName.isEmpty  // the probe has no parent facts (see RuleIndex.hasCandidates)
    }

    /// Whether a rule filed under the keys' program names is `admitted` (those filed under "any"
    /// or a parent name: ``RuleIndex/ProcNameBucket/everyProbeGuards``).
    func containsNamedCandidate(_ keys: RuleIndex.EventKeys, where admitted: (Int) -> Bool) -> Bool {
        func contains(_ table: FoldedTable<[Int]>, _ slot: Int?) -> Bool {
            guard let slot else { return false }
            for position in table[slot: slot] where admitted(position) { return true }
            return false
        }
        if let name = keys.procName, contains(byProcName, byProcName.slot(of: name)) { return true }
        if let path = keys.invokedPath, contains(byProgramName, byProgramName.slot(ofLastComponentOf: path)) {
            return true
        }
        if let path = keys.exePath, contains(byProgramName, byProgramName.slot(ofLastComponentOf: path)) {
            return true
        }
        return false
    }

    /// Appends the rules filed under the keys that pass `index`'s ``RuleIndex/mayMatch(_:_:)``,
    /// and those filed under "any" it admits (see ``RuleIndex/GuardedPositions``).
    func candidates(
        _ keys: RuleIndex.EventKeys,
        _ subject: inout FilterSubject,
        _ index: RuleIndex,
        into buffer: inout [Int]
    ) {
        func append(_ table: FoldedTable<[Int]>, _ slot: Int?) {
            guard let slot else { return }
            for position in table[slot: slot] where index.mayMatch(position, &subject) { buffer.append(position) }
        }
        if let name = keys.procName { append(byProcName, byProcName.slot(of: name)) }
        if let path = keys.invokedPath { append(byProgramName, byProgramName.slot(ofLastComponentOf: path)) }
        if let path = keys.exePath { append(byProgramName, byProgramName.slot(ofLastComponentOf: path)) }
        if let path = keys.parentExePath { append(byParentName, byParentName.slot(ofLastComponentOf: path)) }
        anyByGuard.admitted(&subject, into: &buffer)
    }
}

/// A table keyed by text compared ignoring ASCII case.
///
/// An ASCII key is looked up by its bytes, folded as they are hashed, in a table of its own (no
/// string made or hashed: an event's program names are looked up on every exec). Otherwise, or
/// when some key of the table is not ASCII, as text: a key in lower case as it is, one with
/// upper-case letters first exactly as given, then in lower case (strings compare by canonical
/// equivalence, which bytes do not tell).
struct FoldedTable<Value: Sendable>: Sendable {
    private var values: [Value] = []
    private var folded: [String: Int] = [:]
    private var exact: [String: Int] = [:]
    /// Whether some key has a byte 0x80 or up: then every lookup goes through the texts.
    private var hasNonASCIIKey = false
    /// The folded key of each slot, one after the other: slot `k`'s is
    /// `keyBytes[keyStarts[k]..<keyStarts[k + 1]]`.
    private var keyBytes: [UInt8] = []
    private var keyStarts: [Int] = [0]
    /// Open addressing by ``hash(_:)`` of the folded bytes: each entry is a slot + 1, 0 when
    /// empty; kept at most half full (a power of two long).
    private var byHash: [Int32] = []

    var isEmpty: Bool { values.isEmpty }

    mutating func update(_ key: String, default value: Value, _ change: (inout Value) -> Void) {
        let foldedKey = asciiLowercased(key)
        let slot: Int
        if let existing = folded[foldedKey] {
            slot = existing
        } else {
            slot = values.count
            values.append(value)
            folded[foldedKey] = slot
            let bytes = Array(foldedKey.utf8)
            hasNonASCIIKey = hasNonASCIIKey || bytes.contains { $0 >= 0x80 }
            keyBytes += bytes
            keyStarts.append(keyBytes.count)
            if values.count * 2 > byHash.count { fileByHash() } else { fileInByHash(slot) }
        }
        exact[key] = slot
        change(&values[slot])
    }

    /// Files every key in ``byHash`` again, in a table twice as long as the keys are many (or more):
    /// only when a new key would fill it more than half, so that building a table of n keys files
    /// O(n) keys, not O(n²).
    private mutating func fileByHash() {
        var size = 8
        while size < values.count * 2 { size *= 2 }
        byHash = [Int32](repeating: 0, count: size)
        for slot in values.indices { fileInByHash(slot) }
    }

    /// Files one slot's key in ``byHash`` (at its hash, or the first free entry after it).
    private mutating func fileInByHash(_ slot: Int) {
        let size = byHash.count
        let bytes = keyBytes[keyStarts[slot]..<keyStarts[slot + 1]]
        var k = bytes.withUnsafeBufferPointer { Self.hash($0).value } & (size - 1)
        while byHash[k] != 0 { k = (k + 1) & (size - 1) }
        byHash[k] = Int32(slot + 1)
    }

    /// FNV-1a of the bytes folded to lower case, and their bits ORed (0x80 set: not ASCII).
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> (value: Int, high: UInt8) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var high: UInt8 = 0
        for c in bytes {
            high |= c
            h = (h ^ UInt64(asciiLower(c))) &* 0x100_0000_01B3
        }
        return (Int(truncatingIfNeeded: h ^ (h >> 29)), high)
    }

    /// Changes every value.
    mutating func updateAll(_ change: (inout Value) -> Void) {
        for k in values.indices { change(&values[k]) }
    }

    /// Where `key`'s value is (see ``subscript(slot:)``), nil when absent.
    func slot(of key: String) -> Int? {
        // Most lookups miss (a program no rule names): an empty table is not hashed at all.
        if values.isEmpty { return nil }
        return withUTF8Bytes(key) { slot(ofBytes: $0) } ?? textSlot(of: key)
    }

    /// ``slot(of:)`` of the last path component of `path` (the text after its last `/`, all of it
    /// without one), without making it a string.
    func slot(ofLastComponentOf path: String) -> Int? {
        if values.isEmpty { return nil }
        let found = withUTF8Bytes(path) { bytes in
            slot(ofBytes: UnsafeBufferPointer(rebasing: bytes[RuleIndex.EventKeys.lastComponentStart(bytes)...]))
        }
        return found ?? textSlot(of: RuleIndex.EventKeys.lastComponent(path))
    }

    /// The slot of an ASCII key given by its bytes: `.some(nil)` when absent; nil when the key or
    /// some key of the table is not ASCII (then only the text tells, see ``textSlot(of:)``).
    private func slot(ofBytes key: UnsafeBufferPointer<UInt8>) -> Int?? {
        if hasNonASCIIKey { return nil }
        let (hash, high) = Self.hash(key)
        if high >= 0x80 { return nil }
        let mask = byHash.count - 1
        var k = hash & mask
        return byHash.withUnsafeBufferPointer { byHash in
            keyStarts.withUnsafeBufferPointer { starts in
                keyBytes.withUnsafeBufferPointer { bytes -> Int?? in
                    while byHash[k] != 0 {
                        let slot = Int(byHash[k]) - 1
                        let start = starts[slot]
                        if starts[slot + 1] - start == key.count {
                            var n = 0
                            while n < key.count, asciiLower(key[n]) == bytes[start + n] { n += 1 }
                            if n == key.count { return .some(slot) }
                        }
                        k = (k + 1) & mask
                    }
                    return .some(nil)
                }
            }
        }
    }

    /// ``slot(of:)`` through the texts (see the type's description).
    private func textSlot(of key: String) -> Int? {
        // Over the contiguous bytes: the generic walk of the UTF-8 view cost as much as the hash.
        let isUpperCase = { (c: UInt8) in c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") }
        let hasUpperCase =
            key.utf8.withContiguousStorageIfAvailable { $0.contains(where: isUpperCase) }
            ?? key.utf8.contains(where: isUpperCase)
        if hasUpperCase, let slot = exact[key] { return slot }
        return folded[hasUpperCase ? asciiLowercased(key) : key]
    }

    /// The value at a slot, read in place: a large value (a bucket of tables) is not copied, its
    /// references neither retained nor released.
    subscript(slot slot: Int) -> Value {
        _read { yield values[slot] }
    }
}

extension FilterExpression {
    /// The values `attribute` must equal (ignoring ASCII case) for the filter to hold, when a
    /// top-level conjunct says so with `=` or `IN` and quoted strings; nil when no conjunct does.
    func requiredValues(of attribute: EventAttribute) -> [String]? {
        var conjuncts: [FilterNode] = [root]
        var k = 0
        while k < conjuncts.count {  // flatten nested ANDs
            if case .and(let nodes) = conjuncts[k] {
                conjuncts.remove(at: k)
                conjuncts.append(contentsOf: nodes)
            } else {
                k += 1
            }
        }
        for node in conjuncts {
            switch node {
            case .compare(let a, .equal, let constant) where a == attribute && constant.isQuoted:
                return [constant.text]
            case .inList(let a, false, let constants) where a == attribute && constants.allSatisfy(\.isQuoted):
                return constants.map(\.text)
            default:
                continue
            }
        }
        return nil
    }
}

extension FilterNode {
    /// Program names (last path components) one of which the event's path attributes `paths`
    /// must end in for the filter to hold; nil when the filter requires none.
    ///
    /// From Sigma tests reading only those attributes (`Image`: `invokedPath` or `exePath`;
    /// `ParentImage`: `parentExePath`) whose pattern fixes the last path component (see
    /// ``SigmaPattern/requiredLastComponent``): a conjunction requires what any of its terms
    /// requires, a disjunction the union when every term requires some; `not` and every other node
    /// require nothing.
    func requiredProgramNames(readingOnly paths: [EventAttribute]) -> [String]? {
        requirement { node in
            guard case .sigma(let test) = node else { return nil }
            return test.requiredLastComponent(readingOnly: paths).map { [$0] }
        }
    }

    /// Texts (folded to lower case, two bytes or more), each of the command line (`args`) or of
    /// `Image`'s paths, one of which the event contains whenever the filter holds; nil when it
    /// requires none. From Sigma tests of `CommandLine` and `Image` (see
    /// ``SigmaFieldTest/requiredLiterals``), combined as in ``requiredProgramNames(readingOnly:)``;
    /// of the terms of a conjunction, the one whose shortest text is longest. At most
    /// ``maximumGuardTexts``: a term with more requires nothing here, so a conjunction takes
    /// another term's (a long list of package names beside a short `Image` test).
    func requiredLiterals() -> [(text: GuardedText, literal: [UInt8])]? {
        requirement(
            preferring: { (found: [(text: GuardedText, literal: [UInt8])]) in
                // (A loop: `map(\.literal.count).min()` made an array through a key path, per term.)
                var shortest: Int?
                for item in found { shortest = min(shortest ?? .max, item.literal.count) }
                return shortest ?? 0
            },
            atMost: Self.maximumGuardTexts,
            { node in
                guard case .sigma(let test) = node, let required = test.requiredLiterals else { return nil }
                return required.literals.map { (required.text, $0) }
            }
        )
    }

    /// The most texts a guard has: each is one bit test when the rule is a candidate, and a rule
    /// under "any" is a candidate of every exec.
    static let maximumGuardTexts = 128

    /// A necessary condition of the filter, from those `leaf` finds for single nodes: a conjunction
    /// has the best of its terms' (the highest `rank`, then the fewest alternatives), a disjunction
    /// the union of its terms' when each has one; `not` and nodes `leaf` knows nothing of, none;
    /// a condition of more than `limit` alternatives counts as none.
    private func requirement<T>(
        preferring rank: ([T]) -> Int = { _ in 0 },
        atMost limit: Int = .max,
        _ leaf: (FilterNode) -> [T]?
    ) -> [T]? {
        switch self {
        case .and(let nodes):
            var best: [T]?
            for node in nodes {
                guard let found = node.requirement(preferring: rank, atMost: limit, leaf) else { continue }
                if let current = best {
                    let (a, b) = (rank(found), rank(current))
                    if a < b || (a == b && found.count >= current.count) { continue }
                }
                best = found
            }
            return best
        case .or(let nodes):
            var union: [T] = []
            for node in nodes {
                guard let found = node.requirement(preferring: rank, atMost: limit, leaf) else { return nil }
                union.append(contentsOf: found)
                if union.count > limit { return nil }
            }
            return union.isEmpty ? nil : union
        case .sigma:
            return leaf(self).flatMap { $0.count > limit ? nil : $0 }
        default:
            return nil
        }
    }
}
