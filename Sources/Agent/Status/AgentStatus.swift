import ExecEvents
import Forwarding

/// A snapshot of what the running agent is doing, as `execwatch status` shows it.
public struct AgentStatus: Sendable, Equatable {
    public var source: String
    /// Why this source was chosen (or that it was asked for).
    public var sourceReason: String
    /// What the source cannot see (e.g. polling misses short-lived processes); nil when none.
    public var sourceLimitations: String?
    /// The source is set up and capturing (an exec from now on is seen): what `status --wait`
    /// waits for. False while it sets up (an audit source installing its rules).
    public var sourceRunning = true
    public var hostName: String
    public var agentId: String
    public var startedAt: EventTime
    public var uptimeSeconds: Int64
    public var inputs: Int
    public var events: Int
    /// Over the last few seconds.
    public var eventsPerSecond: Double
    public var failedExecs: Int
    public var malformedRecords: Int
    /// The kernel's audit `lost` counter (audit sources).
    public var kernelLost: Int
    public var kernelBacklog: Int
    /// Everything the agent itself could not deliver: socket overruns, processes gone before
    /// /proc could be read, incident changes the journal queue could not take.
    public var agentDrops: Int
    public var sequenceGaps: Int
    /// Executions delivered with only the first part of their arguments (the eBPF source's limit).
    public var argumentsTruncated: Int
    public var incidentsCreated: Int
    public var incidentsUpdated: Int
    public var incidentsStored: Int
    public var outboxDepth: Int
    /// Outbox changes dropped to keep the outbox within its bound.
    public var outboxDropped: Int
    /// Changes the collector refused for good, kept in the journal's dead letters.
    public var deadLettered: Int
    public var rules: Int
    /// The effective capabilities of the capture thread (the one that needs any).
    public var capabilities: [String]
    /// The user the agent runs as.
    public var user: String
    public var residentBytes: Int
    /// The forwarder's state and counters; nil when the agent does not forward.
    public var forward: ForwarderStatus?
    /// Byte budgets, bytes held and evictions.
    public var memory: MemoryStatus
    /// Changes waiting for the journal, failed stores and why.
    public var journal: JournalStatus
    /// Times another program (auditd, say) asked to become the audit daemon while the agent was
    /// it; the kernel refused each (audit-unicast).
    public var auditClaimsRefused: Int
    /// Times the agent found its audit exec rules removed by another program and added them again.
    public var auditRulesRestored: Int

    public init(
        source: String,
        sourceReason: String,
        sourceLimitations: String?,
        hostName: String,
        agentId: String,
        startedAt: EventTime,
        uptimeSeconds: Int64,
        inputs: Int,
        events: Int,
        eventsPerSecond: Double,
        failedExecs: Int,
        malformedRecords: Int,
        kernelLost: Int,
        kernelBacklog: Int,
        agentDrops: Int,
        sequenceGaps: Int,
        argumentsTruncated: Int = 0,
        incidentsCreated: Int,
        incidentsUpdated: Int,
        incidentsStored: Int,
        outboxDepth: Int,
        outboxDropped: Int,
        deadLettered: Int,
        rules: Int,
        capabilities: [String],
        user: String,
        residentBytes: Int,
        forward: ForwarderStatus? = nil,
        memory: MemoryStatus = MemoryStatus(),
        journal: JournalStatus = JournalStatus(),
        auditClaimsRefused: Int = 0,
        auditRulesRestored: Int = 0
    ) {
        self.source = source
        self.sourceReason = sourceReason
        self.sourceLimitations = sourceLimitations
        self.hostName = hostName
        self.agentId = agentId
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.inputs = inputs
        self.events = events
        self.eventsPerSecond = eventsPerSecond
        self.failedExecs = failedExecs
        self.malformedRecords = malformedRecords
        self.kernelLost = kernelLost
        self.kernelBacklog = kernelBacklog
        self.agentDrops = agentDrops
        self.sequenceGaps = sequenceGaps
        self.argumentsTruncated = argumentsTruncated
        self.incidentsCreated = incidentsCreated
        self.incidentsUpdated = incidentsUpdated
        self.incidentsStored = incidentsStored
        self.outboxDepth = outboxDepth
        self.outboxDropped = outboxDropped
        self.deadLettered = deadLettered
        self.rules = rules
        self.capabilities = capabilities
        self.user = user
        self.residentBytes = residentBytes
        self.forward = forward
        self.memory = memory
        self.journal = journal
        self.auditClaimsRefused = auditClaimsRefused
        self.auditRulesRestored = auditRulesRestored
    }
}

extension AgentStatus {
    /// One JSON object (the wire form of the status socket and `status --json`).
    public var json: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("source")
        w.string(source)
        w.key("sourceReason")
        w.string(sourceReason)
        if let sourceLimitations {
            w.key("sourceLimitations")
            w.string(sourceLimitations)
        }
        w.key("sourceRunning")
        w.bool(sourceRunning)
        w.key("hostName")
        w.string(hostName)
        w.key("agentId")
        w.string(agentId)
        w.key("startedAt")
        w.string(startedAt.rfc3339)
        w.key("uptimeSeconds")
        w.integer(uptimeSeconds)
        w.key("inputs")
        w.integer(Int64(inputs))
        w.key("events")
        w.integer(Int64(events))
        w.key("eventsPerSecond")
        w.raw(Array(String(Double(Int(eventsPerSecond * 10)) / 10).utf8))
        w.key("failedExecs")
        w.integer(Int64(failedExecs))
        w.key("malformedRecords")
        w.integer(Int64(malformedRecords))
        w.key("kernelLost")
        w.integer(Int64(kernelLost))
        w.key("kernelBacklog")
        w.integer(Int64(kernelBacklog))
        w.key("agentDrops")
        w.integer(Int64(agentDrops))
        w.key("sequenceGaps")
        w.integer(Int64(sequenceGaps))
        w.key("argumentsTruncated")
        w.integer(Int64(argumentsTruncated))
        w.key("incidentsCreated")
        w.integer(Int64(incidentsCreated))
        w.key("incidentsUpdated")
        w.integer(Int64(incidentsUpdated))
        w.key("incidentsStored")
        w.integer(Int64(incidentsStored))
        w.key("outboxDepth")
        w.integer(Int64(outboxDepth))
        w.key("outboxDropped")
        w.integer(Int64(outboxDropped))
        w.key("deadLettered")
        w.integer(Int64(deadLettered))
        w.key("rules")
        w.integer(Int64(rules))
        w.key("capabilities")
        w.beginArray()
        for capability in capabilities { w.string(capability) }
        w.endArray()
        w.key("user")
        w.string(user)
        w.key("residentBytes")
        w.integer(Int64(residentBytes))
        for (key, value) in memory.facts {
            w.key(key)
            w.integer(Int64(value))
        }
        for (key, value) in journal.facts {
            w.key(key)
            w.integer(Int64(value))
        }
        w.key("journalError")
        if let error = journal.error { w.string(error) } else { w.null() }
        w.key("auditClaimsRefused")
        w.integer(Int64(auditClaimsRefused))
        w.key("auditRulesRestored")
        w.integer(Int64(auditRulesRestored))
        if let forward { Self.write(forward, to: &w) }
        w.endObject()
        return w.bytes
    }

    /// The forwarder's facts, flat (`forwardState`, `forwardLastError`, …); absent times and
    /// errors are null, so a reader can tell "none" from "not forwarding".
    private static func write(_ forward: ForwarderStatus, to w: inout JSONWriter) {
        func optional(_ key: String, _ text: String?) {
            w.key(key)
            if let text { w.string(text) } else { w.null() }
        }
        w.key("forwardUrl")
        w.string(forward.url)
        w.key("forwardState")
        w.string(forward.state.rawValue)
        optional("forwardLastError", forward.lastError)
        optional("forwardLastErrorAt", forward.lastErrorAt?.rfc3339)
        optional("forwardLastSuccessAt", forward.lastSuccessAt?.rfc3339)
        w.key("incidentsForwarded")
        w.integer(Int64(forward.forwarded))
        w.key("forwardRejected")
        w.integer(Int64(forward.rejected))
        w.key("forwardRetries")
        w.integer(Int64(forward.retries))
    }

    /// The status for people: one `name: value` line per fact, from the JSON form.
    public static func render(json: JSONValue) -> String {
        guard case .object(let members) = json else { return "" }
        let width = members.map(\.0.count).max() ?? 0
        var lines: [String] = []
        for (key, value) in members {
            let text: String
            switch value {
            case .string(let s): text = s
            case .integer(let i): text = key.hasSuffix("Bytes") ? "\(i / 1024 / 1024) MiB (\(i) bytes)" : String(i)
            case .number(let d): text = String(d)
            case .bool(let b): text = String(b)
            case .array(let items):
                text = items.map { if case .string(let s) = $0 { s } else { "?" } }.joined(separator: ", ")
            case .null, .object: text = ""
            }
            lines.append(
                key + ":" + String(repeating: " ", count: width - key.count + 1) + (text.isEmpty ? "none" : text)
            )
        }
        return lines.joined(separator: "\n")
    }
}
