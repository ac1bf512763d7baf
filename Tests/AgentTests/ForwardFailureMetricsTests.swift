import Forwarding
import Testing

@testable import Agent

/// `/metrics` says why forwarding fails (the kind of the last failure), not only that it does.
@Suite("Forwarding failures in /metrics")
struct ForwardFailureMetricsTests {
    @Test func theKindOfTheLastFailureIsShownWhileForwardingFails() {
        var status = AgentStatus.sample()
        status.forward = ForwarderStatus(
            url: "http://127.0.0.1:9",
            state: .retrying,
            lastError: "timeout: no complete reply from http://127.0.0.1:9 within 2000 ms",
            lastErrorKind: .requestTimeout,
            retries: 3,
            consecutiveFailures: 3
        )
        var text = MetricsServer.exposition(status)
        #expect(text.contains("\nexecwatch_forward_failing 1\n"))
        #expect(text.contains("\nexecwatch_forward_last_failure{kind=\"request_timeout\"} 1\n"))
        // Forwarding works again: no last failure to show.
        status.forward?.consecutiveFailures = 0
        text = MetricsServer.exposition(status)
        #expect(text.contains("\nexecwatch_forward_failing 0\n"))
        #expect(!text.contains("execwatch_forward_last_failure"))
    }
}
