import ExecEvents
import Logging
import NIOSSL
import Synchronization

/// Sends the incident changes of the outbox to the collector, and removes each one from the
/// outbox only once the collector has acknowledged it.
///
/// What it promises:
/// - **Nothing lost.** A change leaves the outbox only after a 2xx reply for a request that held
///   it, or when the collector refused it for good (400, 413, 415 or 422 for that incident alone):
///   then it moves to the journal's dead letters with the collector's status and reason (counted
///   in ``ForwarderStatus/rejected`` and logged at error level), so it no longer holds up the
///   others and is never deleted. After a failure or a restart, what is still in the outbox is
///   sent again; the collector ignores duplicates.
/// - **Batches.** Up to `batchMaxIncidents` rows and about 4 MiB of JSON per request, sent when full
///   or `batchMaxMilliseconds` after the first row was read; several versions of one incident in a
///   batch are sent as the highest one.
/// - **Quick.** ``wake()`` after a store gets the change on its way within the batch window; without
///   wakes the outbox is looked at every second.
/// - **Patient.** Every failure is retried: exponential backoff from 250 ms up to
///   `maxBackoffMilliseconds` with full jitter, or the collector's `Retry-After` (429, 503; at most
///   ten minutes). A failure is logged at error level when it starts or changes, not at every retry.
/// - **Says why.** ``status`` names the last failure in words (unknown CA, certificate expired,
///   hostname mismatch, client certificate refused, 401 and the collector's reason, …).
/// - **Secure.** TLS 1.2 or later; the collector verified against `caFile` only when set (else the
///   system trust store), host name included; client certificate (mutual TLS) and bearer token when
///   configured.
public final class IncidentForwarder: Sendable {
    /// How often the outbox is looked at when nobody calls ``wake()``.
    static let defaultPollInterval: Duration = .seconds(1)

    let configuration: ForwardConfiguration
    let endpoint: CollectorEndpoint
    let credentials: ForwarderCredentials
    let tlsConfiguration: TLSConfiguration
    let outbox: any ForwardOutbox
    let logger: Logger
    let limits: BatchLimits
    let backoff: RetryBackoff
    let wakeSignal = WakeSignal()
    /// ``defaultPollInterval``; tests set a long one to tell a wake from a poll.
    let pollInterval: Duration
    let progress: Mutex<Progress>

    /// The status, and what decides how loudly failures are logged.
    struct Progress {
        var status: ForwarderStatus
        var failureLog = FailureLogPolicy()
    }

    /// Reads the CA, client certificate, key and token files now, and checks them: throws a
    /// ``ForwarderSetupError`` that names the file and the problem (missing, unreadable, not PEM, a
    /// token file that group or others may read, an empty token, a key that does not match the
    /// certificate). The HTTP client is created by ``run()``.
    public convenience init(configuration: ForwardConfiguration, outbox: any ForwardOutbox, logger: Logger) throws {
        try self.init(
            configuration: configuration,
            outbox: outbox,
            logger: logger,
            pollInterval: Self.defaultPollInterval
        )
    }

    init(
        configuration: ForwardConfiguration,
        outbox: any ForwardOutbox,
        logger: Logger,
        pollInterval: Duration
    ) throws {
        self.pollInterval = pollInterval
        let endpoint = try CollectorEndpoint(url: configuration.url)
        let credentials = try ForwarderCredentials(configuration: configuration)
        let tlsConfiguration = TLSConfiguration.collectorClient(credentials)
        if endpoint.usesTLS { try tlsConfiguration.validateForCollector(configuration) }
        self.configuration = configuration
        self.endpoint = endpoint
        self.credentials = credentials
        self.tlsConfiguration = tlsConfiguration
        self.outbox = outbox
        var logger = logger
        logger[metadataKey: "collector"] = "\(endpoint.baseURL)"
        self.logger = logger
        self.limits = BatchLimits(maximumRows: configuration.batchMaxIncidents)
        self.backoff = RetryBackoff(maximumMilliseconds: configuration.maxBackoffMilliseconds)
        self.progress = Mutex(Progress(status: ForwarderStatus(url: endpoint.baseURL)))
    }

    /// Sends until the calling task is cancelled, then closes its connections. Never throws: every
    /// failure is retried. Call it once.
    public func run() async {
        let client = CollectorClient(
            endpoint: endpoint,
            tlsConfiguration: tlsConfiguration,
            token: credentials.token,
            configuration: configuration,
            logger: logger
        )
        logger.info(
            "forwarding incidents to \(endpoint.incidentsURL)",
            metadata: [
                "tls": "\(endpoint.usesTLS)", "clientCertificate": "\(credentials.presentsClientCertificate)",
                "token": "\(credentials.token != nil)",
            ]
        )
        await sendUntilCancelled(using: client)
        await client.shutdown()
        update { $0.state = .idle }
        logger.debug("forwarder stopped")
    }

    /// Something was stored in the outbox: look at it now rather than at the next poll. Never
    /// blocks; callable from any thread; calls made while the forwarder is busy coalesce into one.
    public func wake() {
        wakeSignal.signal()
    }

    /// A snapshot of what the forwarder is doing and has done.
    public var status: ForwarderStatus {
        progress.withLock { $0.status }
    }

    func update(_ change: (inout ForwarderStatus) -> Void) {
        progress.withLock { change(&$0.status) }
    }
}
