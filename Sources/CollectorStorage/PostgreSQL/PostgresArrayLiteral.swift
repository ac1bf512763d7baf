/// PostgreSQL array literals (`{"a","b"}`, `{1,2}`): how a batch's columns travel, one text
/// parameter per column, to `unnest($1::text[], …)`.
enum PostgresArrayLiteral {
    /// Every element double-quoted, with `"` and `\` escaped by a backslash: nothing else is
    /// special inside quotes (commas, braces, spaces and newlines are kept as they are).
    static func texts(_ values: [String]) -> String {
        optionalTexts(values)
    }

    /// As ``texts(_:)``, with nil as an unquoted `NULL` element.
    static func optionalTexts(_ values: [String?]) -> String {
        let quote = UInt8(ascii: "\"")
        let backslash = UInt8(ascii: "\\")
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let value else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(quote)
            for byte in value.utf8 {
                if byte == quote || byte == backslash { bytes.append(backslash) }
                bytes.append(byte)
            }
            bytes.append(quote)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    static func integers(_ values: [Int64]) -> String {
        "{" + values.map { String($0) }.joined(separator: ",") + "}"
    }
}
