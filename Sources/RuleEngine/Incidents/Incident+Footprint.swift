import ExecEvents

extension Incident: MemoryFootprint {
    /// The incident's inline size, its text, attributes and trigger events.
    public var footprintBytes: Int {
        let textStride = MemoryLayout<String>.stride
        var total = MemoryLayout<Self>.stride - 6 * textStride
        total += ruleId.footprintBytes + ruleName.footprintBytes + incidentType.footprintBytes
        total += category.footprintBytes + hostName.footprintBytes + agentId.footprintBytes
        total += tactics.footprintBytes - MemoryLayout<[String]>.stride
        total += techniques.footprintBytes - MemoryLayout<[String]>.stride
        total += attributes.footprintBytes - MemoryLayout<[IncidentAttribute]>.stride
        total += triggerEvents.footprintBytes - MemoryLayout<[ExecEvent]>.stride
        total += ruleAuthor.footprintBytes - MemoryLayout<String?>.stride
        total += ruleSource.footprintBytes - MemoryLayout<String?>.stride
        return total
    }
}

extension IncidentAttribute: MemoryFootprint {
    public var footprintBytes: Int {
        MemoryLayout<Self>.stride + name.footprintBytes - MemoryLayout<String>.stride + value.footprintBytes
            - MemoryLayout<AttributeValue>.stride
    }
}

extension IncidentID: MemoryFootprint {
    public var footprintBytes: Int { MemoryLayout<Self>.stride }
    public static var holdsHeapMemory: Bool { false }
}
