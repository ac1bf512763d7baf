import Capture

#if canImport(Glibc)
import Glibc
#endif

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
    /// This boot's id, when the changes are written down (an ``AuditStateRecord``) before they are made.
    var bootId: String?
    /// Whether a record of these changes is stored (and is to be removed once they are undone).
    var isRecorded = false

    init() {}

    /// The changes a dead agent's record says it made (it was the audit daemon, but the kernel
    /// drops or replaces a dead daemon's registration itself).
    init(record: AuditStateRecord) {
        addedRules = record.addedRules
        enabledFound = record.enabled
        backlogLimitFound = record.backlogLimit
        backlogWaitTimeFound = record.backlogWaitTime
    }

    /// What to write down before making these changes (the audit pid is not: see ``init(record:)``).
    func record(bootId: String) -> AuditStateRecord {
        AuditStateRecord(
            bootId: bootId,
            enabled: enabledFound,
            backlogLimit: backlogLimitFound,
            backlogWaitTime: backlogWaitTimeFound,
            addedRules: addedRules
        )
    }

    var isEmpty: Bool {
        addedRules.isEmpty && enabledFound == nil && backlogLimitFound == nil && backlogWaitTimeFound == nil
            && !registeredAsDaemon
    }

    /// Deletes the added rules, then puts back the enabled flag, the backlog settings and the
    /// audit pid (0: a pid found registered was a dead process the kernel let us replace).
    /// Returns what failed; every step is attempted. With `ruleAlreadyGoneIsFine`, a rule that is
    /// no longer loaded (`ENOENT`) is not a failure (restoring a dead agent's record).
    mutating func restore(using control: AuditLink, ruleAlreadyGoneIsFine: Bool = false) -> [CaptureError] {
        var problems: [CaptureError] = []
        func attempt(_ step: () throws(CaptureError) -> Void) {
            do { try step() } catch { problems.append(error) }
        }
        while let rule = addedRules.popLast() {
            attempt { () throws(CaptureError) in
                do throws(CaptureError) {
                    try control.delete(rule)
                } catch {
                    guard ruleAlreadyGoneIsFine && error.errno == ENOENT else { throw error }
                }
            }
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
