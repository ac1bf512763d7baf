import CAudit
import Capture
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension AuditLink {
    /// Reads the kernel's audit status (`AUDIT_GET`; needs CAP_AUDIT_CONTROL).
    public func status() throws(CaptureError) -> AuditKernelStatus {
        var status: AuditKernelStatus?
        try request(
            "read audit status (AUDIT_GET)",
            type: UInt16(AUDIT_GET),
            payload: UnsafeRawBufferPointer(start: nil, count: 0),
            until: .reply(UInt16(AUDIT_GET))
        ) { message in
            status = AuditKernelStatus(bytes: message.payload)
        }
        guard let status else {
            throw CaptureError(operation: "read audit status (AUDIT_GET)", errno: EPROTO, detail: "short reply")
        }
        return status
    }

    /// Sets the enabled flag (0 or 1; 2 locks the configuration until reboot).
    public func setEnabled(_ enabled: UInt32) throws(CaptureError) {
        let result = libauditLock.withLock { _ in audit_set_enabled(descriptor, enabled) }
        guard result >= 0 else { throw CaptureError(operation: "set audit enabled=\(enabled)", errno: -result) }
    }

    /// Sets how many records the kernel queues for the daemon before it loses them.
    public func setBacklogLimit(_ limit: UInt32) throws(CaptureError) {
        let result = libauditLock.withLock { _ in audit_set_backlog_limit(descriptor, limit) }
        guard result >= 0 else { throw CaptureError(operation: "set audit backlog_limit=\(limit)", errno: -result) }
    }

    /// Sets how long (jiffies) an audited task waits for room in a full backlog; 0: never waits.
    public func setBacklogWaitTime(_ jiffies: UInt32) throws(CaptureError) {
        let result = libauditLock.withLock { _ in audit_set_backlog_wait_time(descriptor, jiffies) }
        guard result >= 0 else {
            throw CaptureError(operation: "set audit backlog_wait_time=\(jiffies)", errno: -result)
        }
    }

    /// Registers this process as the audit daemon: the kernel then sends every record to this
    /// socket. Records that arrive before the acknowledgement go to `record`.
    ///
    /// The kernel refuses (`EEXIST`) while another live process is registered.
    func registerAsAuditDaemon(record: (NetlinkMessage) -> Void) throws(CaptureError) {
        try setPID(UInt32(getpid()), operation: "register as the audit daemon (AUDIT_SET pid=\(getpid()))", record)
    }

    /// Unregisters the audit daemon (pid 0); only the registered process may do so.
    func unregisterAsAuditDaemon() throws(CaptureError) {
        try setPID(0, operation: "unregister as the audit daemon (AUDIT_SET pid=0)") { _ in }
    }

    private func setPID(_ pid: UInt32, operation: String, _ record: (NetlinkMessage) -> Void) throws(CaptureError) {
        var status = audit_status()
        status.mask = UInt32(AUDIT_STATUS_PID)
        status.pid = pid
        try withUnsafeBytes(of: &status) { bytes throws(CaptureError) in
            try request(operation, type: UInt16(AUDIT_SET), payload: bytes, until: .acknowledgement) { _ in
            } unrelated: { message in
                record(message)
            }
        }
    }
}
