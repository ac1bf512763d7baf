import Capture
import Logging
import ServiceLifecycle

/// The capture source on its thread, feeding the ``DetectionPipeline``, until the agent stops
/// (or the source stops or fails by itself). When it returns the source has undone what it
/// changed on the host and the pipeline has completed the events still open, so their incident
/// changes are queued for the journal writer, which stops after it.
struct CaptureService: Service, CustomStringConvertible {
    let chosen: ChosenSource
    let pipeline: DetectionPipeline
    let setUp: CaptureSetUp
    let logger: Logger

    var description: String { "capture (\(chosen.source.name))" }

    /// Throws a ``CaptureFailure`` when the source failed.
    func run() async throws {
        let (chosen, pipeline, setUp, logger) = (chosen, pipeline, setUp, logger)
        let capturing: @Sendable () -> Result<Void, any Error> = {
            if !chosen.callsWhenSetUp { setUp.sourceIsSetUp() }
            let result = Result { try chosen.source.run(into: pipeline, until: setUp.stop) }
            pipeline.finish()
            return result
        }
        let result = await setUp.stop.runOnOwnThread(whenAsked: { logger.notice("stopping") }, capturing)
        try result.mapError(CaptureFailure.init).get()
        if let failure = setUp.failure { throw CaptureFailure(error: PrivilegesNotDropped(reason: failure)) }
    }
}

/// The source was set up but privileges could not be dropped after it: the agent does not run
/// with more than it should, it stops (exit status 1).
struct PrivilegesNotDropped: Error, CustomStringConvertible {
    var reason: CaptureError
    var description: String { "cannot drop privileges after the source's set-up: \(reason)" }
}

/// The capture source failed (or privileges could not be dropped after its set-up): the agent
/// stops, exit status 1.
struct CaptureFailure: Error, CustomStringConvertible {
    var error: any Error
    var description: String { "\(error)" }
}
