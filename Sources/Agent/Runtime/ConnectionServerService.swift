import Capture
import ServiceLifecycle

/// A small server of the agent (the status socket, the metrics endpoint), listening already (bound
/// before privileges were dropped), served on a thread of its own until the agent stops.
struct ConnectionServerService<Server: ConnectionServer>: Service, CustomStringConvertible {
    let server: Server
    let description: String
    private let stop: StopSignal

    init(_ server: Server, name: String) throws(CaptureError) {
        self.server = server
        self.description = name
        self.stop = try StopSignal()
    }

    func run() async {
        let (server, stop) = (server, stop)
        await stop.runOnOwnThread { server.serve(until: stop) }
    }
}

/// A server that answers connections on its thread until a ``StopSignal`` is given.
protocol ConnectionServer: Sendable {
    func serve(until stop: StopSignal)
}

extension StatusServer: ConnectionServer {}
extension MetricsServer: ConnectionServer {}
