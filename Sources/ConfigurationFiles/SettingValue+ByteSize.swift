extension SettingValue {
    /// A size in bytes: a whole number, optionally followed by `KiB`, `MiB` or `GiB` (powers of
    /// 1024; `K`, `M`, `G` mean the same), e.g. `32MiB` or `33554432`.
    public static func byteSize(_ value: String, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        let units: [(suffixes: [String], shift: Int)] = [(["KiB", "K"], 10), (["MiB", "M"], 20), (["GiB", "G"], 30)]
        var digits = Substring(value.filter { $0 != "_" })
        var shift = 0
        search: for unit in units {
            for suffix in unit.suffixes where digits.hasSuffix(suffix) {
                digits = digits.dropLast(suffix.count)
                shift = unit.shift
                break search
            }
        }
        digits = Substring(digits.drop { $0 == " " })
        while digits.last == " " { digits = digits.dropLast() }
        guard let count = Int(digits), count >= 0 else {
            throw SettingError(message: "expected a size in bytes (e.g. 33554432 or 32MiB), got \"\(value)\"")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow, range.contains(bytes) else {
            throw SettingError(
                message: "\(value) is out of range \(range.lowerBound)…\(range.upperBound) bytes"
            )
        }
        return bytes
    }
}
