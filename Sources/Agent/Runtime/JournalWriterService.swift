import Forwarding
import Logging
import ServiceLifecycle

/// The ``JournalWriter``: stores the incident changes the pipeline queues, in order, each one
/// waking the forwarder. Told to stop (after capture has stopped), it stores what is still queued
/// and returns (see ``JournalWriter/finish()``).
struct JournalWriterService: Service, CustomStringConvertible {
    let writer: JournalWriter
    let store: any IncidentStore
    let forwarder: IncidentForwarder?
    let logger: Logger

    var description: String { "journal writer" }

    func run() async {
        let (writer, forwarder) = (writer, forwarder)
        await withTaskCancellationOrGracefulShutdownHandler {
            await writer.run(store: store, logger: logger, afterStore: { forwarder?.wake() })
        } onCancelOrGracefulShutdown: {
            writer.finish()
        }
    }
}
