/// A filter or aggregate expression that cannot be compiled: the UTF-8 byte offset in the expression
/// text where the problem is and what was expected or wrong there.
public struct ExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) (at byte \(offset))" }
}
