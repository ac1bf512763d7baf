import Capture

#if canImport(Glibc)
import Glibc
#endif

/// The Prometheus endpoint (`GET /metrics`, text format 0.0.4) with the counters `status` shows.
/// A minimal HTTP/1.1 responder on its own thread: one request per connection, then close.
public final class MetricsServer: Sendable {
    public let address: String
    private let listener: Int32
    private let snapshot: @Sendable () -> AgentStatus

    /// Listens on `host:port` (an IPv4 or IPv6 literal, or `localhost`).
    public init(listen address: String, snapshot: @escaping @Sendable () -> AgentStatus) throws(CaptureError) {
        self.address = address
        self.snapshot = snapshot
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw CaptureError(operation: "metrics listen \(address)", errno: EINVAL, detail: "expected host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let info = found else {
            throw CaptureError(operation: "metrics listen \(address)", errno: EINVAL, detail: "not a numeric address")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CaptureError(operation: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let error = errno
            close(fd)
            throw CaptureError(operation: "metrics listen \(address)", errno: error)
        }
        listener = fd
    }

    public func serve(until stop: StopSignal) {
        defer { close(listener) }
        ConnectionLoop.serve(listener: listener, until: stop) { client in
            var request = [UInt8](repeating: 0, count: 2048)
            let count = recv(client, &request, request.count, 0)
            guard count > 0 else { return }
            let line = String(decoding: request[0..<count].prefix { $0 != 0x0d && $0 != 0x0a }, as: UTF8.self)
            let parts = line.split(separator: " ")
            let response: String
            if parts.count < 2 || parts[0] != "GET" {
                response = Self.response(405, "Method Not Allowed", "only GET /metrics is served\n")
            } else if parts[1] != "/metrics" {
                response = Self.response(404, "Not Found", "only /metrics is served\n")
            } else {
                response = Self.response(200, "OK", Self.exposition(snapshot()), type: "text/plain; version=0.0.4")
            }
            ConnectionLoop.send(Array(response.utf8), to: client)
        }
    }

    static func response(_ code: Int, _ reason: String, _ body: String, type: String = "text/plain") -> String {
        "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + body
    }

    /// The Prometheus text exposition of a status snapshot.
    static func exposition(_ s: AgentStatus) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String, labels: String = "") {
            text += "# HELP execwatch_\(name) \(help)\n# TYPE execwatch_\(name) \(type)\n"
            text += "execwatch_\(name)\(labels) \(value)\n"
        }
        let source = s.source.filter { $0 != "\"" && $0 != "\\" }
        metric("source_info", "gauge", "The capture source in use.", "1", labels: "{source=\"\(source)\"}")
        metric("uptime_seconds", "gauge", "Seconds since the agent started.", String(s.uptimeSeconds))
        metric("inputs_total", "counter", "Audit records or /proc executions taken in.", String(s.inputs))
        metric("events_total", "counter", "LINUX_PROCESS_EXEC events evaluated.", String(s.events))
        metric(
            "failed_execs_total",
            "counter",
            "Failed execs (success=no), counted, not emitted.",
            String(s.failedExecs)
        )
        metric("malformed_records_total", "counter", "Records that could not be parsed.", String(s.malformedRecords))
        metric(
            "kernel_lost",
            "gauge",
            "Lost in the kernel: audit's lost counter, or records the eBPF ring had no room for.",
            String(s.kernelLost)
        )
        metric("kernel_backlog", "gauge", "The kernel's audit backlog.", String(s.kernelBacklog))
        metric(
            "agent_drops_total",
            "counter",
            "What the agent could not deliver (overruns, gone, full queue).",
            String(s.agentDrops)
        )
        metric("sequence_gaps_total", "counter", "Audit serials missing on the link.", String(s.sequenceGaps))
        metric(
            "arguments_truncated_total",
            "counter",
            "Execs delivered with only the first 256 KiB of their arguments (eBPF source).",
            String(s.argumentsTruncated)
        )
        metric("incidents_created_total", "counter", "Incidents created.", String(s.incidentsCreated))
        metric("incidents_updated_total", "counter", "Updates to incidents.", String(s.incidentsUpdated))
        metric(
            "incidents_stored_total",
            "counter",
            "Incident changes committed to the journal.",
            String(s.incidentsStored)
        )
        metric("outbox_depth", "gauge", "Incident changes waiting for the forwarder.", String(s.outboxDepth))
        metric(
            "outbox_dropped_total",
            "counter",
            "Outbox changes dropped to keep it within its bound.",
            String(s.outboxDropped)
        )
        metric(
            "dead_lettered",
            "gauge",
            "Incident changes the collector refused for good, kept in the journal (execwatch incidents --rejected).",
            String(s.deadLettered)
        )
        if let forward = s.forward {
            metric(
                "incidents_forwarded_total",
                "counter",
                "Incident changes the collector acknowledged.",
                String(forward.forwarded)
            )
            metric(
                "forward_rejected_total",
                "counter",
                "Incident changes the collector refused for good (moved to the dead letters).",
                String(forward.rejected)
            )
            metric("forward_retries_total", "counter", "Forwarding attempts that failed.", String(forward.retries))
            metric(
                "forward_failing",
                "gauge",
                "1 while forwarding fails (see execwatch status for the reason).",
                forward.consecutiveFailures > 0 ? "1" : "0"
            )
            if forward.consecutiveFailures > 0, let kind = forward.lastErrorKind {
                metric(
                    "forward_last_failure",
                    "gauge",
                    "While forwarding fails: the kind of the last failure (execwatch status has its words).",
                    "1",
                    labels: "{kind=\"\(kind.rawValue)\"}"
                )
            }
        }
        metric(
            "audit_claims_refused_total",
            "counter",
            "Times another program asked to become the audit daemon while the agent was it (refused by the kernel).",
            String(s.auditClaimsRefused)
        )
        metric(
            "audit_rules_restored_total",
            "counter",
            "The agent's audit exec rules found removed by another program and added again.",
            String(s.auditRulesRestored)
        )
        metric("rules", "gauge", "Rules in force.", String(s.rules))
        metric("resident_memory_bytes", "gauge", "Resident set size.", String(s.residentBytes))
        s.memory.expose { metric($0, $1, $2, $3) }
        s.journal.expose { metric($0, $1, $2, $3) }
        return text
    }
}
