/// What an audit netlink source has done to the host and what it last read from the kernel, for
/// `execwatch status`. Taken at one moment from any thread.
public struct AuditSourceSnapshot: Sendable, Equatable {
    /// Where the source is in its life.
    public enum Phase: Sendable, Equatable {
        case notStarted
        case starting
        case running
        case stopped
        /// The source failed: the error's description.
        case failed(String)
    }

    public var mode: AuditNetlinkSource.Mode
    public var phase: Phase = .notStarted
    /// The kernel's status as the source found it, before changing anything.
    public var statusFound: AuditKernelStatus?
    /// The kernel's status at the last periodic read.
    public var kernelStatus: AuditKernelStatus?
    /// Rules the source added (and removes when it stops).
    public var rulesAdded: [AuditExecRule] = []
    /// The source's rules that were already loaded (left in place when it stops).
    public var rulesAlreadyPresent: [AuditExecRule] = []
    /// Whether this process is registered as the audit daemon (unicast).
    public var isAuditDaemon = false
    /// The socket receive buffer the kernel granted, in bytes.
    public var receiveBufferBytes = 0
    /// What could not be put back when the source stopped (empty when all was restored).
    public var restoreProblems: [String] = []

    public init(mode: AuditNetlinkSource.Mode) {
        self.mode = mode
    }
}
