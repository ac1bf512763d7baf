/// One element of a parsed XML document: its name, attributes, child elements and character data,
/// each with the byte offset in the source it came from.
///
/// Comments, processing instructions and the DOCTYPE are not kept. Character data of the element's
/// own text and CDATA children is concatenated into ``text`` (FortiSIEM rule elements hold either
/// text or elements, not both).
public struct XMLElement: Sendable, Equatable {
    public var name: String
    /// Byte offset of the `<` that opens the element.
    public var offset: Int
    public var attributes: [XMLAttribute]
    public var children: [XMLElement]
    public var text: DecodedText

    public init(
        name: String,
        offset: Int,
        attributes: [XMLAttribute] = [],
        children: [XMLElement] = [],
        text: DecodedText? = nil
    ) {
        self.name = name
        self.offset = offset
        self.attributes = attributes
        self.children = children
        self.text = text ?? DecodedText(startOffset: offset)
    }

    /// The attribute with this exact name, if present.
    public func attribute(_ name: String) -> XMLAttribute? {
        attributes.first { $0.name == name }
    }

    /// The first child element with this exact name.
    public func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    /// All child elements with this exact name, in document order.
    public func children(named name: String) -> [XMLElement] {
        children.filter { $0.name == name }
    }
}

/// An attribute of an element; its value is entity-decoded and keeps its source positions.
public struct XMLAttribute: Sendable, Equatable {
    public var name: String
    /// Byte offset of the attribute's name.
    public var offset: Int
    public var value: DecodedText

    public init(name: String, offset: Int, value: DecodedText) {
        self.name = name
        self.offset = offset
        self.value = value
    }
}
