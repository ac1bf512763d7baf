import Journal

/// The limits of one request to the collector.
struct BatchLimits: Sendable, Equatable {
    /// At most this many outbox rows (before incidents are collapsed).
    var maximumRows: Int
    /// At most this many bytes of JSON array (before compression); a single row larger than this
    /// is still sent alone.
    var maximumBytes: Int

    /// 4 MiB of JSON: well below what a collector accepts, and quick to send and to store.
    static let defaultMaximumBytes = 4 << 20

    init(maximumRows: Int, maximumBytes: Int = BatchLimits.defaultMaximumBytes) {
        self.maximumRows = max(1, maximumRows)
        self.maximumBytes = max(2, maximumBytes)
    }
}

/// Collects outbox rows, in `seq` order, into a batch until a limit is reached.
struct BatchAssembler: Sendable {
    let limits: BatchLimits
    private(set) var rows: [OutboxEntry] = []
    /// Size of the JSON array of the rows collected: `[`, `]` and the commas included.
    private(set) var byteCount = 2
    /// A row did not fit in ``BatchLimits/maximumBytes``: the batch must go as it is.
    private(set) var byteLimitReached = false

    init(limits: BatchLimits) {
        self.limits = limits
    }

    var isEmpty: Bool { rows.isEmpty }

    /// No further row may join: the row limit or the byte limit is reached.
    var isFull: Bool { byteLimitReached || rows.count >= limits.maximumRows }

    /// How many rows may still join (by the row limit).
    var remainingRows: Int { max(0, limits.maximumRows - rows.count) }

    /// The `seq` of the last row collected (0 before the first): read the outbox after this.
    var lastSeq: Int64 { rows.last?.seq ?? 0 }

    /// Adds rows in order while they fit; returns how many were taken. The first row is always
    /// taken, whatever its size.
    @discardableResult
    mutating func add(_ newRows: some Sequence<OutboxEntry>) -> Int {
        var taken = 0
        for row in newRows {
            guard !isFull else { break }
            if let last = rows.last, row.seq <= last.seq { continue }
            let size = row.json.utf8.count + (rows.isEmpty ? 0 : 1)
            if !rows.isEmpty, byteCount + size > limits.maximumBytes {
                byteLimitReached = true
                break
            }
            rows.append(row)
            byteCount += size
            taken += 1
        }
        return taken
    }

    /// The batch of the rows collected so far.
    var batch: OutboxBatch { OutboxBatch(rows: rows) }
}
