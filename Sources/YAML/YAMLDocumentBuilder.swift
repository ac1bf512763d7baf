/// Builds the nodes of a YAML stream from its parse events, without recursion: anchors and
/// aliases, merge keys, unique keys, and the limits that keep a hostile text from exhausting
/// the stack or memory.
struct YAMLDocumentBuilder {
    /// Deepest nesting of collections (aliases included): consumers walk nodes recursively, and a
    /// line of 100,000 `[` once overflowed the stack.
    static let maximumDepth = 256
    /// Most nodes aliases may add to a stream (a "billion laughs" text expands a few lines into
    /// billions of nodes).
    static let maximumAliasedNodes = 100_000

    /// A node with what the limits need to know of it.
    struct Built {
        var node: YAMLNode
        /// Nodes in it, itself included.
        var count: Int
        /// Levels of collections in it (0 for a scalar).
        var height: Int
    }

    /// A collection being read.
    private struct Open {
        var mark: YAMLMark
        var anchor: String?
        var isMapping: Bool
        var items: [YAMLNode] = []
        var entries: [YAMLMapEntry] = []
        var pendingKey: YAMLNode?
        /// The keys of `entries`, as a set once they are many (see ``insertKey(_:)``).
        var keys: Set<String>?
        var count = 1
        var height = 1

        /// Whether `key` is new to the mapping (each key is checked as it comes, before its value).
        /// The keys of a short mapping (most) are compared one by one: hashing every key into a
        /// set of its own cost more. A long one gets the set, so that no text is quadratic.
        mutating func insertKey(_ key: String) -> Bool {
            if keys == nil {
                guard entries.count >= 16 else {
                    for entry in entries {
                        if case .scalar(let scalar) = entry.key, scalar.value == key { return false }
                    }
                    return true
                }
                var all = Set<String>(minimumCapacity: entries.count * 2)
                for entry in entries { if case .scalar(let scalar) = entry.key { all.insert(scalar.value) } }
                keys = all
            }
            return keys!.insert(key).inserted
        }
    }

    private var open: [Open] = []
    private var anchors: [String: Built] = [:]
    private var aliasedNodes = 0
    private(set) var documents: [YAMLNode] = []

    /// A new document: anchors of the previous one no longer apply.
    mutating func startDocument() {
        anchors = [:]
    }

    mutating func scalar(_ scalar: YAMLScalar, anchor: String?) throws(YAMLError) {
        try add(Built(node: .scalar(scalar), count: 1, height: 0), anchor: anchor)
    }

    mutating func alias(_ name: String, at mark: YAMLMark) throws(YAMLError) {
        guard let built = anchors[name] else {
            throw YAMLError(message: "alias *\(name) names no anchor defined before it (or its own node)", mark: mark)
        }
        aliasedNodes += built.count
        guard aliasedNodes <= Self.maximumAliasedNodes else {
            throw YAMLError(
                message: "aliases expand to more than \(Self.maximumAliasedNodes) nodes",
                mark: mark
            )
        }
        try add(built, anchor: nil, at: mark)
    }

    mutating func startCollection(mapping: Bool, anchor: String?, at mark: YAMLMark) throws(YAMLError) {
        guard open.count < Self.maximumDepth else {
            throw YAMLError(message: "collections nested deeper than \(Self.maximumDepth) levels", mark: mark)
        }
        open.append(Open(mark: mark, anchor: anchor, isMapping: mapping))
    }

    mutating func endCollection() throws(YAMLError) {
        let collection = open.removeLast()
        let node: YAMLNode
        if collection.isMapping {
            node = .mapping(try Self.merged(collection.entries), mark: collection.mark)
        } else {
            node = .sequence(collection.items, mark: collection.mark)
        }
        try add(Built(node: node, count: collection.count, height: collection.height), anchor: collection.anchor)
    }

    /// Places a finished node in the collection around it, or as a document's root.
    private mutating func add(_ built: Built, anchor: String?, at mark: YAMLMark? = nil) throws(YAMLError) {
        if let anchor { anchors[anchor] = built }
        guard !open.isEmpty else {
            documents.append(built.node)
            return
        }
        guard open.count + built.height <= Self.maximumDepth else {
            throw YAMLError(
                message: "collections nested deeper than \(Self.maximumDepth) levels",
                mark: mark ?? built.node.mark
            )
        }
        let last = open.count - 1
        open[last].count += built.count
        open[last].height = max(open[last].height, built.height + 1)
        guard open[last].isMapping else {
            open[last].items.append(built.node)
            return
        }
        guard let key = open[last].pendingKey else {
            guard case .scalar(let scalar) = built.node else {
                throw YAMLError(message: "a mapping key must be a scalar, not a collection", mark: built.node.mark)
            }
            guard open[last].insertKey(scalar.value) else {
                throw YAMLError(message: "duplicate key \"\(scalar.value)\"", mark: scalar.mark)
            }
            open[last].pendingKey = built.node
            return
        }
        open[last].entries.append(YAMLMapEntry(key: key, value: built.node))
        open[last].pendingKey = nil
    }

    /// The entries of a mapping with its merge keys (`<<: *base` or `<<: [*a, *b]`) replaced by
    /// the entries they bring: keys written in the mapping win, then earlier merged mappings.
    private static func merged(_ entries: [YAMLMapEntry]) throws(YAMLError) -> [YAMLMapEntry] {
        guard entries.contains(where: { isMergeKey($0.key) }) else { return entries }
        var result = entries.filter { !isMergeKey($0.key) }
        var keys = Set(
            result.compactMap { entry -> String? in
                guard case .scalar(let scalar) = entry.key else { return nil }
                return scalar.value
            }
        )
        for entry in entries where isMergeKey(entry.key) {
            var sources: [YAMLNode] = []
            switch entry.value {
            case .mapping: sources = [entry.value]
            case .sequence(let items, _): sources = items
            case .scalar: break
            }
            guard !sources.isEmpty else {
                throw YAMLError(
                    message: "a merge key << takes a mapping or a list of mappings",
                    mark: entry.value.mark
                )
            }
            for source in sources {
                guard case .mapping(let mergedEntries, _) = source else {
                    throw YAMLError(message: "a merge key << takes a mapping or a list of mappings", mark: source.mark)
                }
                for merged in mergedEntries {
                    guard case .scalar(let key) = merged.key, keys.insert(key.value).inserted else { continue }
                    result.append(merged)
                }
            }
        }
        return result
    }

    /// A plain `<<` key (or one tagged `!!merge`).
    private static func isMergeKey(_ key: YAMLNode) -> Bool {
        guard case .scalar(let scalar) = key, scalar.value == "<<" else { return false }
        return scalar.tag == "tag:yaml.org,2002:merge" || (scalar.style == .plain && scalar.tag == nil)
    }
}
