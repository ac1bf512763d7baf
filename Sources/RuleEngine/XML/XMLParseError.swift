/// A document that is not well-formed XML: the byte offset where the problem was seen and what was
/// expected there.
public struct XMLParseError: Error, Equatable, Sendable {
    /// Byte offset into the source (see ``SourceLocator`` for line and column).
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}
