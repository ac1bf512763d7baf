import CollectorStorage
import Logging
import Prometheus

/// The collector's Prometheus metrics, served by `GET /metrics`.
///
/// Metric names start with `execwatch_collector_`: requests by method, route and status, request
/// duration, incidents received and what storing them did, authentication failures by reason,
/// rejected bodies by status, store failures by cause and whether the store answered last time,
/// and the number of stored incidents (counted in the store at most
/// once per `storedIncidentsRefresh`, see ``StoredIncidentCount``).
public final class CollectorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let incidentsReceived: Counter
    private let incidentsCreated: Counter
    private let incidentsUpdated: Counter
    private let incidentsUnchanged: Counter
    private let storedIncidents: Gauge
    private let storageAvailable: Gauge
    private let storedIncidentCount: StoredIncidentCount

    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        storedIncidentsRefresh: Duration = .seconds(60)
    ) {
        self.registry = registry
        self.storedIncidentCount = StoredIncidentCount(refreshInterval: storedIncidentsRefresh)
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: Self.name(name, unit: "total", help: help), labels: [])
        }
        incidentsReceived = counter("incidents_received", "Incidents in accepted ingest requests.")
        incidentsCreated = counter("incidents_created", "Incidents stored for the first time.")
        incidentsUpdated = counter("incidents_updated", "Stored incidents replaced by a higher version.")
        incidentsUnchanged = counter("incidents_unchanged", "Incidents received again at a version already stored.")
        storedIncidents = registry.makeGauge(
            descriptor: Self.name("incidents_stored", unit: "", help: "Incidents in the store."),
            labels: []
        )
        storageAvailable = registry.makeGauge(
            descriptor: Self.name(
                "storage_available",
                unit: "",
                help: "1 when the store's last operation succeeded, 0 when it failed (see storage_failures_total)."
            ),
            labels: []
        )
        storageAvailable.set(Int64(1))
    }

    /// One request answered.
    func requestAnswered(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(
            descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests answered."),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", unit: "seconds", help: "Time to answer HTTP requests."),
            labels: [("route", route)],
            buckets: Self.durationBuckets
        ).record(duration)
    }

    /// A request refused with 401.
    func authenticationFailed(reason: String) {
        registry.makeCounter(
            descriptor: Self.name("auth_failures", unit: "total", help: "Requests refused for want of authentication."),
            labels: [("reason", reason)]
        ).increment()
    }

    /// An ingest body refused (400, 413, 415).
    func bodyRejected(status: Int) {
        registry.makeCounter(
            descriptor: Self.name("rejected_bodies", unit: "total", help: "Ingest requests whose body was refused."),
            labels: [("status", String(status))]
        ).increment()
    }

    /// The store failed (the request got 503): counted by cause (`full`, `unreachable`, `other`).
    func storageFailed(_ error: any Error) {
        storageAvailable.set(Int64(0))
        registry.makeCounter(
            descriptor: Self.name(
                "storage_failures",
                unit: "total",
                help: "Store operations that failed, by cause (full, unreachable, other); the log says more."
            ),
            labels: [("cause", StorageFailureCause(of: error).rawValue)]
        ).increment()
    }

    /// The store answered.
    func storageAnswered() {
        storageAvailable.set(Int64(1))
    }

    /// A batch stored, with what happened to each incident.
    func incidentsStored(_ outcomes: [UpsertOutcome]) {
        storageAnswered()
        incidentsReceived.increment(by: Int64(outcomes.count))
        var created: Int64 = 0
        var updated: Int64 = 0
        var unchanged: Int64 = 0
        for outcome in outcomes {
            switch outcome {
            case .created: created += 1
            case .updated: updated += 1
            case .unchanged: unchanged += 1
            }
        }
        incidentsCreated.increment(by: created)
        storedIncidentCount.add(Int(created))
        incidentsUpdated.increment(by: updated)
        incidentsUnchanged.increment(by: unchanged)
    }

    /// Sets the stored incidents gauge, counting the store only when the last count is old.
    func updateStoredIncidents(from store: any CollectorStore, logger: Logger) async {
        if let count = await storedIncidentCount.current(from: store, logger: logger) {
            storedIncidents.set(Int64(count))
        }
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }

    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        .seconds(10),
    ]

    private static func name(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "execwatch_collector", metricName: name, unitName: unit, helpText: help)
    }
}
