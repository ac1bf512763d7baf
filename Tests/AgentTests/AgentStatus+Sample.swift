import ExecEvents

@testable import Agent

extension AgentStatus {
    /// A status with every counter zero but the ones a test sets: for checking how status JSON,
    /// the human view and `/metrics` show a figure.
    static func sample(
        outboxDepth: Int = 0,
        deadLettered: Int = 0,
        memory: MemoryStatus = MemoryStatus()
    ) -> AgentStatus {
        AgentStatus(
            source: "test",
            sourceReason: "test",
            sourceLimitations: nil,
            hostName: "h",
            agentId: "a",
            startedAt: EventTime(seconds: 0),
            uptimeSeconds: 1,
            inputs: 0,
            events: 0,
            eventsPerSecond: 0,
            failedExecs: 0,
            malformedRecords: 0,
            kernelLost: 0,
            kernelBacklog: 0,
            agentDrops: 0,
            sequenceGaps: 0,
            incidentsCreated: 0,
            incidentsUpdated: 0,
            incidentsStored: 0,
            outboxDepth: outboxDepth,
            outboxDropped: 0,
            deadLettered: deadLettered,
            rules: 0,
            capabilities: [],
            user: "root",
            residentBytes: 1,
            memory: memory
        )
    }
}
