#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into lines with one reused buffer: reads go into its free space, complete
/// lines are handed out, and a partial line waits for the next read.
///
/// The buffer starts small and grows to hold the longest line seen, up to `maximumLineLength`;
/// a longer line is reported once as overlong and skipped through its newline.
struct StreamLineBuffer {
    let maximumLineLength: Int
    private var storage: [UInt8]
    /// Bytes held: a partial line (after ``takeLines(_:overlong:)``).
    private var filled = 0
    /// Inside an overlong line: drop bytes through the next newline.
    private var skipping = false

    init(maximumLineLength: Int = 1 << 20, initialCapacity: Int = 1 << 16) {
        self.maximumLineLength = maximumLineLength
        storage = [UInt8](repeating: 0, count: min(initialCapacity, maximumLineLength + 1))
    }

    /// Calls `read` once with the free space (growing the buffer when a partial line fills it)
    /// and keeps what it wrote; returns `read`'s result (bytes read, 0 at end, -1 on error).
    mutating func fill(_ read: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        if filled == storage.count {
            let grown = min(storage.count * 2, maximumLineLength + 1)
            storage.append(contentsOf: repeatElement(0, count: grown - storage.count))
        }
        let start = filled
        let count = storage.withUnsafeMutableBytes { read(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
        if count > 0 { filled += count }
        return count
    }

    /// Hands out every complete line (without its newline); `overlong` is called once for each
    /// line longer than the maximum, which is dropped.
    mutating func takeLines(_ line: (UnsafeRawBufferPointer) -> Void, overlong: () -> Void) {
        let filled = self.filled
        var skipping = self.skipping
        let consumed = storage.withUnsafeMutableBytes { bytes -> Int in
            let base = bytes.baseAddress!
            var start = 0
            while start < filled, let found = memchr(base + start, 0x0a, filled - start) {
                let end = base.distance(to: found)
                if skipping {
                    skipping = false
                } else {
                    line(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                }
                start = end + 1
            }
            if start > 0 && start < filled { memmove(base, base + start, filled - start) }
            return start
        }
        self.filled -= consumed
        if self.filled > maximumLineLength {
            if !skipping { overlong() }
            skipping = true
            self.filled = 0
        }
        self.skipping = skipping
    }

    /// At the end of the input: hands out a last line that had no newline.
    mutating func finish(_ line: (UnsafeRawBufferPointer) -> Void) {
        if filled > 0 && !skipping {
            storage.withUnsafeBytes { line(UnsafeRawBufferPointer(rebasing: $0[0..<filled])) }
        }
        filled = 0
        skipping = false
    }
}
