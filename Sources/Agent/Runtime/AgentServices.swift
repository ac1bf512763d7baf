import Logging
import ServiceLifecycle
import UnixSignals

/// The agent's long-running parts as one `ServiceGroup`: the one place that says in what order
/// they stop.
///
/// SIGTERM or SIGINT (the group's graceful-shutdown signals), or capture ending by itself (its
/// source stopped or failed), stops them one at a time, each after the one before has returned:
/// 1. rules reload: no reload while stopping;
/// 2. capture: the source stops and undoes its changes to audit; the pipeline completes the
///    events still open;
/// 3. journal writer: every incident change still queued is stored;
/// 4. forwarder: a last chance to send what the last events produced;
/// 5. status, 6. metrics: they answer until the end.
///
/// A capture failure is thrown by `run()` once all have stopped. Status, metrics and reload going
/// away by themselves stop nothing: detection goes on without them.
struct AgentServices {
    var reload: RulesReloadService
    var capture: CaptureService
    var journal: JournalWriterService
    var forwarder: ForwarderService?
    var status: ConnectionServerService<StatusServer>
    var metrics: ConnectionServerService<MetricsServer>?

    func group(logger: Logger) -> ServiceGroup {
        typealias Entry = ServiceGroupConfiguration.ServiceConfiguration
        let stopsTheAgent = { (service: any Service) in
            Entry(
                service: service,
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        }
        let auxiliary = { (service: any Service) in
            Entry(service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
        }
        let stopOrder: [Entry?] = [
            auxiliary(reload),
            stopsTheAgent(capture),
            Entry(service: journal),
            forwarder.map { Entry(service: $0) },
            auxiliary(status),
            metrics.map { auxiliary($0) },
        ]
        // A ServiceGroup stops its services in the reverse order of its list.
        return ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: stopOrder.compactMap { $0 }.reversed(),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
    }
}
