// Case-insensitive text comparison on UTF-8 bytes, without creating lower-cased copies per event.
// Case folding is ASCII-only (A-Z); other characters compare by their bytes. Constants arrive
// already folded (see `FilterConstant.folded`).

/// Calls `body` with the UTF-8 bytes of `text`, copying only when the string is not contiguous UTF-8.
@inline(__always)
func withUTF8Bytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
    let copy = Array(text.utf8)
    return copy.withUnsafeBufferPointer(body)
}

/// Three-way comparison of `text` (folded on the fly) with already-folded bytes.
func foldedCompare(_ text: String, _ folded: [UInt8]) -> Int {
    withUTF8Bytes(text) { a in
        folded.withUnsafeBufferPointer { b in
            let n = min(a.count, b.count)
            for k in 0..<n {
                let x = asciiLower(a[k])
                let y = b[k]
                if x != y { return x < y ? -1 : 1 }
            }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        }
    }
}

/// Whether `text` contains the already-folded `needle`, ignoring ASCII case.
func foldedContains(_ text: String, _ needle: [UInt8]) -> Bool {
    if needle.isEmpty { return true }
    return withUTF8Bytes(text) { a in
        needle.withUnsafeBufferPointer { b in
            guard a.count >= b.count else { return false }
            let first = b[0]
            var start = 0
            while start + b.count <= a.count {
                if asciiLower(a[start]) == first {
                    var k = 1
                    while k < b.count, asciiLower(a[start + k]) == b[k] { k += 1 }
                    if k == b.count { return true }
                }
                start += 1
            }
            return false
        }
    }
}

/// Whether `text` equals `other` ignoring ASCII case (both unfolded).
func foldedEquals(_ text: String, _ other: String) -> Bool {
    withUTF8Bytes(text) { a in
        withUTF8Bytes(other) { b in
            guard a.count == b.count else { return false }
            for k in 0..<a.count where asciiLower(a[k]) != asciiLower(b[k]) { return false }
            return true
        }
    }
}
