import ExecEvents

/// The `node=` names of the events the assembler has open, each stored once, by a small index.
///
/// A name is kept only while some open event carries it, so the names a stream can make the
/// assembler hold are bounded by its open events (and their bytes count in its budget), however
/// many distinct names hostile input invents.
struct NodeNames {
    private var names: [[UInt8]] = []
    /// Open events per index; 0 for a free index.
    private var openEvents: [Int] = []
    private var free: [Int] = []
    private var indexByName: [[UInt8]: Int] = [:]
    /// The index found last: records of one node mostly follow each other, so most lookups end
    /// here without hashing or allocating.
    private var lastFound = -1
    /// Bytes held by the names (see ``AuditEventAssembler/heldBytes``).
    private(set) var heldBytes = 0

    /// How many names are held.
    var count: Int { indexByName.count }

    /// The index of a name that open events carry; nil when none does.
    mutating func index(of name: UnsafeRawBufferPointer) -> Int? {
        if lastFound >= 0, openEvents[lastFound] > 0, names[lastFound].elementsEqual(name) { return lastFound }
        guard let index = indexByName[Array(name)] else { return nil }
        lastFound = index
        return index
    }

    /// One more open event carries `name`: returns its index, storing the name when new.
    mutating func open(_ name: UnsafeRawBufferPointer) -> Int {
        let index: Int
        if let known = self.index(of: name) {
            index = known
        } else {
            let stored = Array(name)
            if let reused = free.popLast() {
                index = reused
                names[index] = stored
            } else {
                index = names.count
                names.append(stored)
                openEvents.append(0)
            }
            indexByName[stored] = index
            heldBytes += Self.bytes(of: stored)
            lastFound = index
        }
        openEvents[index] += 1
        return index
    }

    /// An open event carrying the name at `index` was completed; the name goes with the last one.
    mutating func close(_ index: Int) {
        openEvents[index] -= 1
        guard openEvents[index] == 0 else { return }
        indexByName[names[index]] = nil
        heldBytes -= Self.bytes(of: names[index])
        names[index] = []
        free.append(index)
    }

    func name(at index: Int) -> [UInt8] { names[index] }

    /// The name, its slot in the table and in the dictionary.
    private static func bytes(of name: [UInt8]) -> Int {
        HeapAllocation.bytes(holding: name.count) + 3 * MemoryLayout<[UInt8]>.stride + 2 * MemoryLayout<Int>.stride
    }
}
