/// The issuer and subject of an X.509 certificate, read from its DER encoding: enough to tell
/// whether a certificate was issued by a given CA, and to name both in messages.
struct CertificateNames: Sendable, Equatable {
    /// The encoded `Name`s, compared byte for byte (CAs copy their subject into what they issue).
    var issuer: [UInt8]
    var subject: [UInt8]

    /// Nil when the bytes are not a certificate this reader understands.
    init?(der: [UInt8]) {
        var reader = DERReader(der[...])
        guard let certificate = reader.read(tag: 0x30) else { return nil }
        var fields = DERReader(certificate.value)
        guard let tbs = fields.read(tag: 0x30) else { return nil }
        var tbsFields = DERReader(tbs.value)
        if tbsFields.peekTag == 0xA0 { _ = tbsFields.readAny() }  // [0] version
        guard tbsFields.read(tag: 0x02) != nil,  // serialNumber
            tbsFields.read(tag: 0x30) != nil,  // signature algorithm
            let issuer = tbsFields.read(tag: 0x30),
            tbsFields.read(tag: 0x30) != nil,  // validity
            let subject = tbsFields.read(tag: 0x30)
        else { return nil }
        self.issuer = Array(issuer.whole)
        self.subject = Array(subject.whole)
    }

    var isSelfIssued: Bool { issuer == subject }
    var issuerCommonName: String? { Self.commonName(of: issuer) }
    var subjectCommonName: String? { Self.commonName(of: subject) }

    /// The last commonName (2.5.4.3) of an encoded `Name`.
    static func commonName(of name: [UInt8]) -> String? {
        var outer = DERReader(name[...])
        guard let sequence = outer.read(tag: 0x30) else { return nil }
        var sets = DERReader(sequence.value)
        var found: String?
        while let set = sets.read(tag: 0x31) {
            var attributes = DERReader(set.value)
            while let attribute = attributes.read(tag: 0x30) {
                var parts = DERReader(attribute.value)
                guard let oid = parts.read(tag: 0x06), let value = parts.readAny() else { continue }
                guard Array(oid.value) == [0x55, 0x04, 0x03] else { continue }
                switch value.tag {
                case 0x0C, 0x13, 0x14, 0x16: found = String(decoding: value.value, as: UTF8.self)
                case 0x1E: found = Self.utf16BigEndian(value.value)
                default: break
                }
            }
        }
        return found
    }

    private static func utf16BigEndian(_ bytes: ArraySlice<UInt8>) -> String {
        var units: [UInt16] = []
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            index += 2
        }
        return String(decoding: units, as: UTF16.self)
    }
}

/// Reads DER type-length-value elements one after the other.
private struct DERReader {
    struct Element {
        var tag: UInt8
        var value: ArraySlice<UInt8>
        /// Tag, length and value.
        var whole: ArraySlice<UInt8>
    }

    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    var peekTag: UInt8? { bytes.first }

    mutating func read(tag: UInt8) -> Element? {
        guard peekTag == tag else { return nil }
        return readAny()
    }

    mutating func readAny() -> Element? {
        let start = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let tag = bytes[start]
        var index = start + 1
        var length = Int(bytes[index])
        index += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 4, index + count <= bytes.endIndex else { return nil }
            length = 0
            for byte in bytes[index..<(index + count)] { length = length << 8 | Int(byte) }
            index += count
        }
        guard length >= 0, index + length <= bytes.endIndex else { return nil }
        let element = Element(
            tag: tag,
            value: bytes[index..<(index + length)],
            whole: bytes[start..<(index + length)]
        )
        bytes = bytes[(index + length)...]
        return element
    }
}
