import Capture
import Glibc
import Logging
import ProcCapture
import Synchronization
import TestSupport
import Testing

@testable import Agent

/// `auto` uses a source only once a trial run shows the agent's own probe exec coming through.
@Suite struct DeliveryCheckTests {
    /// Sets up fine and delivers nothing, like the proc connector in a container.
    final class SilentSource: CaptureSource {
        let name = "silent"
        let counters = CaptureCounters()
        let runs = Atomic<Int>(0)
        func run(into sink: any CaptureSink, until stop: StopSignal) throws {
            runs.add(1, ordering: .relaxed)
            var entry = pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, -1) < 0 {}
        }
    }

    final class FailingSource: CaptureSource {
        let name = "failing"
        let counters = CaptureCounters()
        func run(into sink: any CaptureSink, until stop: StopSignal) throws {
            throw CaptureError(operation: "bind(NETLINK_TEST)", errno: EPERM)
        }
    }

    @Test func aSourceThatDeliversTheProbeIsDelivering() {
        let poll = ProcPollSource(period: .milliseconds(100))
        #expect(DeliveryCheck.verify(poll, within: .seconds(5)) == .delivered)
    }

    @Test func aSilentOrFailingSourceIsNotAndSaysWhy() {
        #expect(
            DeliveryCheck.verify(SilentSource(), within: .milliseconds(600))
                == .silent("the probe's exec was not seen within 0.6 s")
        )
        #expect(
            DeliveryCheck.verify(FailingSource(), within: .seconds(5))
                == .failed("bind(NETLINK_TEST) failed: Operation not permitted (errno 1)")
        )
    }

    @Test func autoPassesOverASilentSourceLogsWhyAndRunsAFreshDeliveringOne() throws {
        let log = LogRecording()
        let silent = SilentSource()
        let made = Mutex<[String]>([])
        let candidates = [
            AgentSources.Candidate(bound: .milliseconds(600), whenSilent: "a known cause") { _ in
                made.withLock { $0.append("silent") }
                return ChosenSource(source: silent, reason: "auto: silent")
            },
            AgentSources.Candidate { _ in
                made.withLock { $0.append("poll") }
                return ChosenSource(source: ProcPollSource(period: .milliseconds(100)), reason: "auto: polling /proc")
            },
        ]
        let chosen = try AgentSources.firstDelivering(candidates, whenSetUp: {}, logger: log.logger())
        #expect(chosen.source.name == "proc-poll")
        let passedOver = "silent delivers no executions: the probe's exec was not seen within 0.6 s; a known cause"
        #expect(chosen.reason == "auto: polling /proc (passed over: \(passedOver))")
        #expect(log.messages(at: .warning) == ["source \(passedOver)"])
        // One trial instance of each, then a fresh instance of the one chosen for the real run.
        #expect(made.withLock { $0 } == ["silent", "poll", "poll"])
        #expect(silent.runs.load(ordering: .relaxed) == 1)
    }

    @Test func whenNoSourceDeliversTheStartFailsNamingEachReason() {
        let candidates = [
            AgentSources.Candidate { _ in ChosenSource(source: FailingSource(), reason: "auto") }
        ]
        #expect(throws: CaptureError.self) {
            try AgentSources.firstDelivering(candidates, whenSetUp: {}, logger: LogRecording().logger())
        }
        do {
            _ = try AgentSources.firstDelivering(candidates, whenSetUp: {}, logger: LogRecording().logger())
        } catch {
            #expect(
                "\(error)"
                    == "choosing a capture source failed; no source delivers executions here: failing cannot be used: bind(NETLINK_TEST) failed: Operation not permitted (errno 1)"
            )
        }
    }
}
