/// Where and how the agent forwards incidents: the `forward.*` keys of `agent.yaml`.
///
/// Only `url` is required to forward; without it the outbox is kept (bounded) for later.
public struct ForwardConfiguration: Sendable, Equatable {
    /// The collector's base URL, `https://host:port` (the path `/api/v1/incidents` is added).
    public var url: String
    /// PEM file of the CA(s) the collector's certificate must chain to; nil: the system trust store.
    public var caFile: String?
    /// PEM client certificate and key, for mutual TLS (both or neither).
    public var certFile: String?
    public var keyFile: String?
    /// A file holding the bearer token; it must be readable by its owner only.
    public var tokenFile: String?
    /// A batch is sent once it holds this many incidents…
    public var batchMaxIncidents = 100
    /// …or this long after its first incident was read, whichever comes first.
    public var batchMaxMilliseconds = 50
    public var connectTimeoutMilliseconds = 3000
    /// The whole request, sending and answer.
    public var requestTimeoutMilliseconds = 15_000
    /// Retries wait 250 ms, doubling up to this, with jitter.
    public var maxBackoffMilliseconds = 30_000
    /// Compress request bodies with gzip.
    public var gzip = true

    public init(url: String) {
        self.url = url
    }
}
