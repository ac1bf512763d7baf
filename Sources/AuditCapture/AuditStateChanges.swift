import Capture

/// What a source changed in the kernel's audit state, so that it can be put back as found.
///
/// Each change is undone once and then forgotten: restoring again does nothing, so restoring
/// both on the normal path and from a `defer` is safe.
struct AuditStateChanges {
    /// Rules the source added (never rules it found loaded).
    var addedRules: [AuditExecRule] = []
    /// The enabled flag found, when the source changed it.
    var enabledFound: UInt32?
    /// The backlog limit found, when the source changed it.
    var backlogLimitFound: UInt32?
    /// The backlog wait time found, when the source changed it.
    var backlogWaitTimeFound: UInt32?
    /// Whether the source registered this process as the audit daemon.
    var registeredAsDaemon = false

    var isEmpty: Bool {
        addedRules.isEmpty && enabledFound == nil && backlogLimitFound == nil && backlogWaitTimeFound == nil
            && !registeredAsDaemon
    }

    /// Deletes the added rules, then puts back the enabled flag, the backlog settings and the
    /// audit pid (0: a pid found registered was a dead process the kernel let us replace).
    /// Returns what failed; every step is attempted.
    mutating func restore(using control: AuditLink) -> [CaptureError] {
        var problems: [CaptureError] = []
        func attempt(_ step: () throws(CaptureError) -> Void) {
            do { try step() } catch { problems.append(error) }
        }
        while let rule = addedRules.popLast() {
            attempt { () throws(CaptureError) in try control.delete(rule) }
        }
        if let enabled = enabledFound {
            enabledFound = nil
            attempt { () throws(CaptureError) in try control.setEnabled(enabled) }
        }
        if let waitTime = backlogWaitTimeFound {
            backlogWaitTimeFound = nil
            attempt { () throws(CaptureError) in try control.setBacklogWaitTime(waitTime) }
        }
        if let limit = backlogLimitFound {
            backlogLimitFound = nil
            attempt { () throws(CaptureError) in try control.setBacklogLimit(limit) }
        }
        if registeredAsDaemon {
            registeredAsDaemon = false
            attempt { () throws(CaptureError) in try control.unregisterAsAuditDaemon() }
        }
        return problems
    }
}
