import ExecEvents

/// Where an expression names an event attribute: the attribute and the UTF-8 byte offset of its
/// name in the expression text (for warnings about names no source produces).
struct AttributeUse: Sendable {
    var attribute: EventAttribute
    var offset: Int
}
