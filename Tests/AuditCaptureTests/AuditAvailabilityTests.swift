import Capture
import Glibc
import Testing

@testable import AuditCapture

/// What `auto` is told about audit, from what was found (no kernel involved).
@Suite struct AuditAvailabilityTests {
    @Test func outsideTheInitialPIDNamespaceTheContainerIsNamedNotTheKernel() {
        // As under systemd-nspawn: its seccomp filter fails the audit socket with EAFNOSUPPORT.
        var availability = AuditAvailability(
            agentRulesLoaded: false,
            hasAuditControl: true,
            hasAuditRead: true,
            nonInitialNamespace: "PID"
        )
        availability.openError = CaptureError(
            operation: "socket(AF_NETLINK, NETLINK_AUDIT)",
            errno: EAFNOSUPPORT,
            detail: "this kernel has no audit support (CONFIG_AUDIT)"
        )
        let recommendation = availability.recommendation
        #expect(recommendation.source == nil)
        #expect(
            recommendation.reason
                == "this process is not in the host's initial PID namespace (a container): the kernel takes audit requests only from the initial PID and user namespaces"
        )
        // In the initial namespaces the same failure still says what it is.
        availability.nonInitialNamespace = nil
        #expect(availability.recommendation.reason.contains("CONFIG_AUDIT"))
    }

    @Test func thisTestRunsInTheHostsInitialNamespaces() {
        // `make test` runs on the host; a container would make the audit tests meaningless anyway.
        #expect(LinuxProcess.nonInitialNamespace() == nil)
    }
}
