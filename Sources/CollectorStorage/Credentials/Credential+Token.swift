import Crypto

extension Credential {
    /// The SHA-256 of a token, as 64 lowercase hex digits: what ``tokenHash`` holds, and
    /// what ``CollectorStore/credential(tokenHash:)`` looks up.
    public static func tokenHash(of token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(token.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
