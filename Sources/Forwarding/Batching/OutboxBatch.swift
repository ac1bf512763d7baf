import Journal
import RuleEngine

/// Outbox rows sent together in one request: one item per incident, carrying the incident's
/// highest version in the batch and the `seq` of every row it stands for.
///
/// The collector keeps the highest version of an incident anyway, so lower versions read in the
/// same batch are not sent; their rows are acknowledged with the batch all the same.
struct OutboxBatch: Sendable, Equatable {
    /// One incident of the batch.
    struct Item: Sendable, Equatable {
        /// The row with the incident's highest version in the batch: its JSON is what is sent.
        var entry: OutboxEntry
        /// Every row of the batch this item stands for (the sent one included), in `seq` order.
        var seqs: [Int64]
    }

    /// In the order of the rows sent (by `seq` of each incident's highest version).
    private(set) var items: [Item]

    /// Collapses rows (in `seq` order) to one item per incident.
    init(rows: [OutboxEntry]) {
        var itemIndex: [IncidentID: Int] = [:]
        var items: [Item] = []
        for row in rows {
            if let index = itemIndex[row.incidentId] {
                items[index].seqs.append(row.seq)
                if row.version >= items[index].entry.version { items[index].entry = row }
            } else {
                itemIndex[row.incidentId] = items.count
                items.append(Item(entry: row, seqs: [row.seq]))
            }
        }
        for index in items.indices { items[index].seqs.sort() }
        self.items = items.sorted { $0.entry.seq < $1.entry.seq }
    }

    private init(items: [Item]) {
        self.items = items
    }

    /// The outbox rows this batch stands for: acknowledged together when the collector accepts it.
    var seqs: [Int64] { items.flatMap(\.seqs).sorted() }

    /// The JSON texts sent, one per incident.
    var sentEntries: [OutboxEntry] { items.map(\.entry) }

    /// The request body: a JSON array of the rows' JSON texts, as stored (not re-encoded).
    var jsonArray: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.reduce(2) { $0 + $1.entry.json.utf8.count + 1 })
        bytes.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: item.entry.json.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    /// The first and second half of the items (the first gets the smaller half when odd), for
    /// finding the one incident the collector refuses. Nil for a batch of one incident.
    func halves() -> (first: OutboxBatch, second: OutboxBatch)? {
        guard items.count > 1 else { return nil }
        let middle = items.count / 2
        return (OutboxBatch(items: Array(items[..<middle])), OutboxBatch(items: Array(items[middle...])))
    }
}
