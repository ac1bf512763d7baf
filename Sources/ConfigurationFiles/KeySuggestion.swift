/// The known name a misspelt one was most likely meant to be: "did you mean …" in errors (of
/// configuration keys, and of attribute names in rules).
public enum KeySuggestion {
    /// The candidate closest to `key` by edit distance (letters compared ignoring case, a swap of
    /// two neighbours one edit), when it is close enough to be a typo: one edit for keys of up to
    /// four characters, two up to ten, three beyond. Nil when none is.
    public static func nearest(to key: String, among candidates: [String]) -> String? {
        let typed = Array(key.lowercased())
        let limit = typed.count <= 4 ? 1 : typed.count <= 10 ? 2 : 3
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != key {
            let distance = editDistance(typed, Array(candidate.lowercased()))
            if distance <= limit, distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Insertions, deletions, substitutions and swaps of neighbours (optimal string alignment).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
