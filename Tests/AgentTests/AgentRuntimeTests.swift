import Capture
import ExecEvents
import Foundation
import Journal
import Logging
import RuleEngine
import ServiceLifecycleTestKit
import Synchronization
import TestSupport
import Testing

@testable import Agent

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A capture source that delivers one netcat exec when it starts and, as it stops, another (as a
/// real source delivers what it read before the stop), or fails after the first.
private final class ScriptedSource: CaptureSource {
    enum Ending: Sendable { case stopWhenAsked, fail }

    let name = "scripted"
    let counters = CaptureCounters()
    let ending: Ending
    let running = Atomic<Bool>(false)

    init(ending: Ending) { self.ending = ending }

    func run(into sink: any CaptureSink, until stop: StopSignal) throws {
        sink.exec(Self.netcat(at: 100))
        running.store(true, ordering: .releasing)
        if ending == .fail { throw CaptureError(operation: "reading the scripted source", errno: EIO) }
        var entry = pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, -1) <= 0 {}
        sink.exec(Self.netcat(at: 101))
    }

    static func netcat(at seconds: Int64) -> ExecEvent {
        ExecEvent(eventTime: EventTime(seconds: seconds), hostName: "h", user: "alice", procName: "nc", swParam: "-h")
    }
}

/// The agent run with a scripted source and a real journal in a temporary directory.
private struct RuntimeUnderTest {
    let directory: TemporaryDirectory
    let configuration: AgentConfiguration
    let log = LogRecording()

    init(metrics: Bool = false) throws {
        directory = try TemporaryDirectory(prefix: "execwatch-runtime")
        var configuration = AgentConfiguration()
        configuration.stateDirectory = directory.path + "/state"
        configuration.statusSocket = directory.path + "/agent.sock"
        configuration.rulePaths = [repositoryRoot.appendingPathComponent("rules").path]
        configuration.hostName = "h"
        configuration.metricsListen = metrics ? "127.0.0.1:0" : nil
        self.configuration = configuration
    }

    func run(_ source: ScriptedSource) async throws -> Int32 {
        let runtime = AgentRuntime(configuration: configuration, logger: log.logger())
        return try await runtime.run(openStore: AgentJournal.open) { _, _, _, _ in
            // The source "sets itself up" and never says so: privileges stay as they are.
            ChosenSource(source: source, reason: "scripted", callsWhenSetUp: true)
        }
    }

    /// The status the agent answers, once its source runs.
    func statusWhenRunning(_ source: ScriptedSource) async throws -> String {
        for _ in 0..<400 {
            if source.running.load(ordering: .acquiring),
                case .success(let reply) = StatusServer.request(path: configuration.statusSocket)
            {
                return String(decoding: reply, as: UTF8.self)
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("the agent did not answer on \(configuration.statusSocket) with its source running")
    }

    /// The incidents the journal kept, reopened after the agent stopped.
    func storedIncidents() async throws -> [Incident] {
        let state = try AgentStateDirectory(path: configuration.stateDirectory, user: nil)
        let journal = try await IncidentJournal.open(stateDirectory: state.path, trustedOwner: nil)
        let incidents = try await journal.restorableIncidents()
        try await journal.close()
        return incidents
    }

    var socketRemoved: Bool { access(configuration.statusSocket, F_OK) != 0 }
}

@Suite("The agent's services: start, stop order, exit status")
struct AgentRuntimeTests {
    @Test func stoppingStopsCaptureFirstAndStoresWhatItDeliveredWhileStopping() async throws {
        let agent = try RuntimeUnderTest(metrics: true)
        let source = ScriptedSource(ending: .stopWhenAsked)
        let status = try await testGracefulShutdown { shutdown in
            async let exit = agent.run(source)
            let answer = try await agent.statusWhenRunning(source)
            #expect(answer.contains("\"source\":\"scripted\""))
            shutdown.triggerGracefulShutdown()  // as SIGTERM does
            return try await exit
        }
        #expect(status == 0)
        // The exec delivered after the stop reached the journal: capture stopped before the writer.
        let incidents = try await agent.storedIncidents()
        #expect(incidents.map(\.count).reduce(0, +) == 2)
        #expect(agent.socketRemoved)
        let messages = agent.log.entries.map(\.message)
        let stopping = try #require(messages.firstIndex(of: "stopping"))
        let stopped = try #require(messages.firstIndex(of: "stopped"))
        #expect(stopping < stopped)
        #expect(agent.log.entries.last { $0.message == "stopped" }?.metadata["incidentsStored"] == "2")
    }

    @Test func aFailingSourceStopsTheAgentWithStatusOneAfterStoringWhatItDelivered() async throws {
        let agent = try RuntimeUnderTest()
        let status = try await agent.run(ScriptedSource(ending: .fail))
        #expect(status == 1)
        let incidents = try await agent.storedIncidents()
        #expect(incidents.map(\.count).reduce(0, +) == 1)
        #expect(agent.socketRemoved)
        let failed = agent.log.entries.filter { $0.level == .error }.map(\.message)
        #expect(failed.count == 1)
        #expect(failed.first?.hasPrefix("capture failed: reading the scripted source failed") == true)
        #expect(!agent.log.entries.map(\.message).contains("stopping"))
    }
}
