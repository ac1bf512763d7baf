/// The kernel's audit status (`AUDIT_GET`, what `auditctl -s` prints), as read at one moment.
public struct AuditKernelStatus: Sendable, Equatable {
    /// 0 disabled, 1 enabled, 2 enabled and locked (rules and settings cannot change until reboot).
    public var enabled: UInt32
    /// What the kernel does when it cannot record (0 silent, 1 printk, 2 panic).
    public var failure: UInt32
    /// The registered audit daemon's pid; 0 when none.
    public var pid: UInt32
    public var rateLimit: UInt32
    public var backlogLimit: UInt32
    /// Records the kernel could not deliver since boot.
    public var lost: UInt32
    /// Records waiting in the kernel's queue.
    public var backlog: UInt32
    /// How long (jiffies) an audited task waits when the backlog is full; 0 never waits.
    public var backlogWaitTime: UInt32

    public init(
        enabled: UInt32 = 0,
        failure: UInt32 = 0,
        pid: UInt32 = 0,
        rateLimit: UInt32 = 0,
        backlogLimit: UInt32 = 0,
        lost: UInt32 = 0,
        backlog: UInt32 = 0,
        backlogWaitTime: UInt32 = 0
    ) {
        self.enabled = enabled
        self.failure = failure
        self.pid = pid
        self.rateLimit = rateLimit
        self.backlogLimit = backlogLimit
        self.lost = lost
        self.backlog = backlog
        self.backlogWaitTime = backlogWaitTime
    }

    /// `enabled == 2`: the configuration is immutable until reboot.
    public var isLocked: Bool { enabled == 2 }

    /// Decodes `struct audit_status` (native byte order). Older kernels send a shorter struct:
    /// fields past its end stay 0. Nil when even the fixed part (through `backlog`) is missing.
    init?(bytes: UnsafeRawBufferPointer) {
        func field(_ index: Int) -> UInt32 {
            let offset = index * 4
            guard offset + 4 <= bytes.count else { return 0 }
            return bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        }
        guard bytes.count >= 8 * 4 else { return nil }
        // mask(0) enabled(1) failure(2) pid(3) rate_limit(4) backlog_limit(5) lost(6) backlog(7)
        // feature_bitmap(8) backlog_wait_time(9) backlog_wait_time_actual(10)
        self.init(
            enabled: field(1),
            failure: field(2),
            pid: field(3),
            rateLimit: field(4),
            backlogLimit: field(5),
            lost: field(6),
            backlog: field(7),
            backlogWaitTime: field(9)
        )
    }
}
