/// A hash table that remembers use order and can give up its least recently used entry.
///
/// Nodes live in one array linked by indices (no per-entry allocation beyond the dictionary), and
/// values are mutated in place.
struct LRUTable<Key: Hashable, Value> {
    fileprivate struct Node {
        var key: Key
        var value: Value
        var newer: Int
        var older: Int
    }

    private var nodes: [Node?] = []
    private var free: [Int] = []
    private var slots: [Key: Int] = [:]
    /// Most recently used node, or -1.
    private var newest = -1
    /// Least recently used node, or -1.
    private var oldest = -1

    var count: Int { slots.count }

    func contains(_ key: Key) -> Bool { slots[key] != nil }

    /// Reads a value without changing the use order.
    func peek(_ key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        return nodes[slot]!.value
    }

    /// Marks the key as just used and lets `body` change its value in place; nil when absent.
    mutating func use<R>(_ key: Key, _ body: (inout Value) -> R) -> R? {
        guard let slot = slots[key] else { return nil }
        moveToNewest(slot)
        return body(&nodes[slot]!.value)
    }

    /// Inserts a new key as the most recently used one (the key must not be present).
    mutating func insert(_ key: Key, _ value: Value) {
        let node = Node(key: key, value: value, newer: -1, older: newest)
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            nodes[slot] = node
        } else {
            slot = nodes.count
            nodes.append(node)
        }
        if newest >= 0 { nodes[newest]!.newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
        slots[key] = slot
    }

    /// Removes and returns the least recently used entry.
    mutating func removeOldest() -> (key: Key, value: Value)? {
        guard oldest >= 0 else { return nil }
        let node = nodes[oldest]!
        remove(node.key)
        return (node.key, node.value)
    }

    @discardableResult
    mutating func remove(_ key: Key) -> Value? {
        guard let slot = slots.removeValue(forKey: key) else { return nil }
        let node = nodes[slot]!
        unlink(slot)
        nodes[slot] = nil
        free.append(slot)
        return node.value
    }

    mutating func removeAll(where shouldRemove: (Key) -> Bool) {
        for key in slots.keys where shouldRemove(key) { remove(key) }
    }

    /// All values, most recently used first.
    var values: [Value] {
        var result: [Value] = []
        result.reserveCapacity(count)
        var slot = newest
        while slot >= 0 {
            result.append(nodes[slot]!.value)
            slot = nodes[slot]!.older
        }
        return result
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        nodes[slot]!.older = newest
        nodes[slot]!.newer = -1
        if newest >= 0 { nodes[newest]!.newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot]!.newer
        let older = nodes[slot]!.older
        if newer >= 0 { nodes[newer]!.older = older } else { newest = older }
        if older >= 0 { nodes[older]!.newer = newer } else { oldest = newer }
    }
}

extension LRUTable: Sendable where Key: Sendable, Value: Sendable {}
extension LRUTable.Node: Sendable where Key: Sendable, Value: Sendable {}
