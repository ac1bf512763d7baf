import Capture

#if canImport(Glibc)
import Glibc
#endif

extension AuditNetlinkSource {
    /// Becomes the audit daemon; returns the socket the records arrive on.
    func startUnicast(
        control: AuditLink,
        changes: inout AuditStateChanges,
        delivery: AuditRecordDelivery
    ) throws(CaptureError) -> AuditLink {
        let found = try control.status()
        noteFound(found)
        if found.pid != 0, LinuxProcess.isAlive(Int32(bitPattern: found.pid)) {
            throw Self.ownedError(pid: found.pid)
        }
        let loaded = try control.rules()
        let rules = AuditExecRule.agentRules(key: configuration.ruleKey)
        if found.isLocked { try Self.requireLoaded(rules, loaded) }

        let daemon = try AuditLink()
        let granted = daemon.raiseReceiveBuffer(to: configuration.receiveBufferBytes)
        do throws(CaptureError) {
            try daemon.registerAsAuditDaemon(record: delivery.deliver)
        } catch {
            guard error.errno == EEXIST else { throw error }
            throw Self.ownedError(pid: (try? control.status())?.pid ?? found.pid)
        }
        changes.registeredAsDaemon = true
        update {
            $0.isAuditDaemon = true
            $0.receiveBufferBytes = granted
        }
        guard !found.isLocked else { return daemon }

        // Written down before anything changes, so that a crash cannot lose what was found.
        var planned = changes
        if found.backlogLimit != configuration.backlogLimit { planned.backlogLimitFound = found.backlogLimit }
        if found.backlogWaitTime != configuration.backlogWaitTime {
            planned.backlogWaitTimeFound = found.backlogWaitTime
        }
        if found.enabled == 0 { planned.enabledFound = 0 }
        planned.addedRules = Self.missing(rules, loaded)
        try writeDown(planned, in: &changes)

        // Recorded before each change: restoring a value that did not change is harmless.
        if found.backlogLimit != configuration.backlogLimit {
            changes.backlogLimitFound = found.backlogLimit
            try control.setBacklogLimit(configuration.backlogLimit)
        }
        if found.backlogWaitTime != configuration.backlogWaitTime {
            changes.backlogWaitTimeFound = found.backlogWaitTime
            try control.setBacklogWaitTime(configuration.backlogWaitTime)
        }
        if found.enabled == 0 {
            changes.enabledFound = 0
            try control.setEnabled(1)
        }
        try install(rules, loaded: loaded, control: control, changes: &changes)
        return daemon
    }

    /// Joins the read-only multicast group beside the audit daemon; returns that socket.
    func startMulticast(control: AuditLink, changes: inout AuditStateChanges) throws(CaptureError) -> AuditLink {
        let found = try control.status()
        noteFound(found)
        guard found.enabled != 0 else {
            throw CaptureError(
                operation: "start audit-multicast",
                errno: 0,
                detail: "audit is disabled (enabled=0), so no record would arrive; "
                    + "enable it (auditctl -e 1) or use --source audit-unicast"
            )
        }
        let loaded = try control.rules()
        let rules = AuditExecRule.agentRules(key: configuration.ruleKey)
        if found.isLocked { try Self.requireLoaded(rules, loaded) }
        let reader = try AuditLink.openReadLog()
        let granted = reader.raiseReceiveBuffer(to: configuration.receiveBufferBytes)
        update { $0.receiveBufferBytes = granted }
        if !found.isLocked {
            var planned = changes
            planned.addedRules = Self.missing(rules, loaded)
            try writeDown(planned, in: &changes)
            try install(rules, loaded: loaded, control: control, changes: &changes)
        }
        return reader
    }

    /// Keeps the kernel's status as found: its `lost` counter is the base that `kernelLost` grows
    /// from (records dropped before the source started, or by another audit reader, are not its
    /// loss), and its `backlog` the first figure reported until the periodic read.
    private func noteFound(_ found: AuditKernelStatus) {
        counters.kernelLost.set(0)
        counters.kernelBacklog.set(Int(found.backlog))
        update {
            $0.statusFound = found
            $0.kernelStatus = found
        }
    }

    /// The rules of `rules` not loaded: those ``install(_:loaded:control:changes:)`` will add.
    static func missing(_ rules: [AuditExecRule], _ loaded: [AuditRuleListing]) -> [AuditExecRule] {
        rules.filter { rule in !loaded.contains(where: { $0.isExactly(rule) }) }
    }

    /// Adds each rule not already loaded; rules found loaded are left alone (and not deleted later).
    /// When one was loaded meanwhile by someone else, the record is rewritten without it.
    private func install(
        _ rules: [AuditExecRule],
        loaded: [AuditRuleListing],
        control: AuditLink,
        changes: inout AuditStateChanges
    ) throws(CaptureError) {
        let planned = Self.missing(rules, loaded)
        for rule in rules {
            if planned.contains(rule) {
                do throws(CaptureError) {
                    try control.add(rule)
                    changes.addedRules.append(rule)
                    update { $0.rulesAdded.append(rule) }
                    continue
                } catch {
                    guard error.errno == EEXIST else { throw error }  // loaded meanwhile: not ours
                }
            }
            update { $0.rulesAlreadyPresent.append(rule) }
        }
        if changes.addedRules != planned {
            let actual = changes
            try writeDown(actual, in: &changes)
        }
    }

    private static func requireLoaded(_ rules: [AuditExecRule], _ loaded: [AuditRuleListing]) throws(CaptureError) {
        for rule in rules where !loaded.contains(where: { $0.isExactly(rule) }) {
            throw CaptureError(
                operation: "add audit rule \(rule)",
                errno: EPERM,
                detail: "the audit configuration is locked (enabled=2) until reboot and this rule is not "
                    + "loaded; add it to the audit rules before -e 2"
            )
        }
    }

    /// The error for "another daemon is registered", naming it.
    static func ownedError(pid: UInt32) -> CaptureError {
        let name = LinuxProcess.commandName(of: Int32(bitPattern: pid)) ?? "unknown"
        return CaptureError(
            operation: "register as the audit daemon",
            errno: EEXIST,
            detail: "audit is owned by pid \(pid) (\(name)); use --source audit-multicast"
        )
    }
}
