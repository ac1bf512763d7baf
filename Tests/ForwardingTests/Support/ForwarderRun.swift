import ExecEvents
import Journal
import Logging
import RuleEngine
import TestSupport

@testable import Forwarding

/// A forwarder running against a real journal in a temporary directory, for one test.
final class ForwarderRun: Sendable {
    let directory: TemporaryDirectory
    let journal: IncidentJournal
    let forwarder: IncidentForwarder
    let log: LogRecording
    private let task: Task<Void, Never>

    /// Opens a journal, stores `updates` in it, and starts a forwarder on it.
    static func start(
        _ configuration: ForwardConfiguration,
        storing updates: [IncidentUpdate] = [],
        pollInterval: Duration = IncidentForwarder.defaultPollInterval
    ) async throws -> ForwarderRun {
        let directory = try TemporaryDirectory()
        let journal = try await IncidentJournal.open(stateDirectory: directory.path + "/state")
        for update in updates { try await journal.store(update) }
        let log = LogRecording()
        let forwarder: IncidentForwarder
        do {
            forwarder = try IncidentForwarder(
                configuration: configuration,
                outbox: journal,
                logger: log.logger(),
                pollInterval: pollInterval
            )
        } catch {
            try? await journal.close()
            throw error
        }
        return ForwarderRun(directory: directory, journal: journal, forwarder: forwarder, log: log)
    }

    private init(
        directory: TemporaryDirectory,
        journal: IncidentJournal,
        forwarder: IncidentForwarder,
        log: LogRecording
    ) {
        self.directory = directory
        self.journal = journal
        self.forwarder = forwarder
        self.log = log
        self.task = Task { await forwarder.run() }
    }

    /// Stores a change and wakes the forwarder, as the agent's journal writer does.
    func store(_ update: IncidentUpdate) async throws {
        try await journal.store(update)
        forwarder.wake()
    }

    func outboxDepth() async throws -> Int { try await journal.outboxDepth() }

    /// Waits until `condition` holds for the forwarder's status (or `seconds` passed); returns the
    /// last status seen.
    @discardableResult
    func waitForStatus(
        seconds: Double = 30,
        _ condition: @Sendable (ForwarderStatus) -> Bool
    ) async throws -> ForwarderStatus {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition(forwarder.status), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return forwarder.status
    }

    /// Waits until the outbox is empty (or `seconds` passed); returns its depth.
    @discardableResult
    func waitForEmptyOutbox(seconds: Double = 30) async throws -> Int {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while try await outboxDepth() > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return try await outboxDepth()
    }

    /// Cancels the forwarder, waits for it to shut its client down, and closes the journal.
    func stop() async {
        task.cancel()
        await task.value
        try? await journal.close()
    }
}

extension ForwardConfiguration {
    /// A configuration for tests: quick retries.
    static func test(url: String) -> ForwardConfiguration {
        var configuration = ForwardConfiguration(url: url)
        configuration.maxBackoffMilliseconds = 40
        configuration.connectTimeoutMilliseconds = 2000
        configuration.requestTimeoutMilliseconds = 5000
        return configuration
    }
}
