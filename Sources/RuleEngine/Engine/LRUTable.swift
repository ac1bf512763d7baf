import ExecEvents

/// A hash table that remembers use order, can give up its least recently used entry, and keeps
/// count of the bytes its entries hold (``bytes``), for a memory budget.
///
/// Nodes live in one array linked by indices (no per-entry allocation beyond the dictionary), and
/// values are mutated in place.
struct LRUTable<Key: Hashable & MemoryFootprint, Value: MemoryFootprint> {
    fileprivate struct Node {
        var key: Key
        var value: Value
    }

    /// An entry's place in the use order and its size, apart from its node: moving an entry to
    /// the newest end or measuring it then reads and writes these alone, never a copy of the
    /// node (its key and value retained and released).
    fileprivate struct Link {
        var newer: Int
        var older: Int
        /// What this entry holds: key, value and the table's own slots for it.
        var bytes: Int
        /// The table's own slots and the key (which never changes): measured once.
        var bytesBesideValue: Int
    }

    /// The table's own cost per entry beyond the key's and value's footprint: its node and link
    /// slots and its dictionary slot (key and index, the table kept at most three quarters full).
    private static var entryOverhead: Int {
        MemoryLayout<Node?>.stride + MemoryLayout<Link>.stride - MemoryLayout<Key>.stride - MemoryLayout<Value>.stride
            + (MemoryLayout<Key>.stride + MemoryLayout<Int>.stride) * 4 / 3
    }

    private var nodes: [Node?] = []
    /// The link of each slot of ``nodes`` (a free slot's is stale).
    private var links: [Link] = []
    private var free: [Int] = []
    private var slots: [Key: Int] = [:]
    /// Most recently used node, or -1.
    private var newest = -1
    /// Least recently used node, or -1.
    private var oldest = -1

    var count: Int { slots.count }
    /// Approximate bytes held by the entries (see ``MemoryFootprint``).
    private(set) var bytes = 0

    func contains(_ key: Key) -> Bool { slots[key] != nil }

    /// Reads a value without changing the use order.
    func peek(_ key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        return nodes[slot]!.value
    }

    /// Marks the key as just used and lets `body` change its value in place; nil when absent.
    /// The value's footprint is measured again afterwards.
    mutating func use<R>(_ key: Key, _ body: (inout Value) -> R) -> R? {
        guard let slot = slots[key] else { return nil }
        return use(slot: slot, body)
    }

    /// ``use(_:_:)`` for a change that leaves the value's footprint as it was unless `body` sets
    /// its `resized` argument: a large value (an incident with its trigger events) is not measured
    /// again on every update.
    mutating func use<R>(_ key: Key, _ body: (inout Value, _ resized: inout Bool) -> R) -> R? {
        guard let slot = slots[key] else { return nil }
        moveToNewest(slot)
        var resized = false
        let result = body(&nodes[slot]!.value, &resized)
        if resized { measure(slot) }
        return result
    }

    /// Where `key`'s entry is, for ``use(slot:_:)``: the key is hashed once however it is used
    /// next. Nil when absent. A slot stays the key's until the key is removed.
    func slot(of key: Key) -> Int? { slots[key] }

    /// ``use(_:_:)`` of the entry at `slot` (from ``slot(of:)`` or ``insert(_:_:)``, its key still
    /// present).
    mutating func use<R>(slot: Int, _ body: (inout Value) -> R) -> R {
        moveToNewest(slot)
        let result = body(&nodes[slot]!.value)
        measure(slot)
        return result
    }

    /// Measures the value at `slot` again and brings ``bytes`` up to date.
    private mutating func measure(_ slot: Int) {
        // Through an inout access: a value read out of the optional node was copied first.
        func footprint(_ value: inout Value) -> Int { value.footprintBytes }
        let measured = links[slot].bytesBesideValue + footprint(&nodes[slot]!.value)
        bytes += measured - links[slot].bytes
        links[slot].bytes = measured
    }

    /// Inserts a new key as the most recently used one (the key must not be present); returns
    /// its slot (see ``slot(of:)``).
    @discardableResult
    mutating func insert(_ key: Key, _ value: Value) -> Int {
        let besideValue = Self.entryOverhead + key.footprintBytes
        let link = Link(
            newer: -1,
            older: newest,
            bytes: besideValue + value.footprintBytes,
            bytesBesideValue: besideValue
        )
        bytes += link.bytes
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            nodes[slot] = Node(key: key, value: value)
            links[slot] = link
        } else {
            slot = nodes.count
            nodes.append(Node(key: key, value: value))
            links.append(link)
        }
        if newest >= 0 { links[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
        slots[key] = slot
        return slot
    }

    /// The least recently used entry, without changing the use order; nil when empty.
    var oldestEntry: (key: Key, value: Value)? {
        guard oldest >= 0, let node = nodes[oldest] else { return nil }
        return (node.key, node.value)
    }

    /// Removes and returns the least recently used entry, with the bytes it held.
    mutating func removeOldest() -> (key: Key, value: Value, bytes: Int)? {
        guard oldest >= 0 else { return nil }
        let node = nodes[oldest]!
        let bytes = links[oldest].bytes
        remove(node.key)
        return (node.key, node.value, bytes)
    }

    @discardableResult
    mutating func remove(_ key: Key) -> Value? {
        guard let slot = slots.removeValue(forKey: key) else { return nil }
        let node = nodes[slot]!
        unlink(slot)
        bytes -= links[slot].bytes
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
            slot = links[slot].older
        }
        return result
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        links[slot].older = newest
        links[slot].newer = -1
        if newest >= 0 { links[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = links[slot].newer
        let older = links[slot].older
        if newer >= 0 { links[newer].older = older } else { newest = older }
        if older >= 0 { links[older].newer = newer } else { oldest = newer }
    }
}

extension LRUTable: Sendable where Key: Sendable, Value: Sendable {}
extension LRUTable.Node: Sendable where Key: Sendable, Value: Sendable {}
extension LRUTable.Link: Sendable {}
