import Capture
import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

extension AuditNetlinkSource {
    /// The capture loop: waits on the record socket and the stop signal, delivers every record,
    /// tells the sink when it is idle, and reads the kernel's status now and then. On stop it
    /// delivers what is already queued and returns.
    func read(
        from link: AuditLink,
        control: AuditLink,
        delivery: AuditRecordDelivery,
        until stop: StopSignal
    ) throws(CaptureError) {
        var descriptors = [
            pollfd(fd: link.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        let timeout = configuration.pollTimeoutMilliseconds
        var lastIdle = MonotonicClock.milliseconds()
        var nextStatusRead = lastIdle + configuration.statusIntervalMilliseconds
        var overrunsCounted = 0
        var othersMissing = false
        while true {
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                throw CaptureError(operation: "poll(NETLINK_AUDIT)", errno: errno)
            }
            if descriptors[1].revents != 0 { break }
            if descriptors[0].revents != 0 {
                try drain(link, delivery, upTo: 512)
                if configuration.coalesceMicroseconds > 0 { usleep(configuration.coalesceMicroseconds) }
            }
            if link.overruns != overrunsCounted {
                counters.socketOverruns.count(link.overruns - overrunsCounted)
                overrunsCounted = link.overruns
            }
            let now = MonotonicClock.milliseconds()
            if now - lastIdle >= Int(timeout) {
                lastIdle = now
                delivery.sink.idle(now: EventTime.now)
            }
            if now >= nextStatusRead {
                nextStatusRead = now + configuration.statusIntervalMilliseconds
                refreshStatus(control, othersMissing: &othersMissing)
            }
        }
        try drain(link, delivery, upTo: 10_000)  // bounded: records keep coming until the rules go
        counters.socketOverruns.count(link.overruns - overrunsCounted)
        refreshStatus(control, othersMissing: &othersMissing)
    }

    /// Delivers queued datagrams until none is left or `limit` were read (so stop is seen soon).
    private func drain(_ link: AuditLink, _ delivery: AuditRecordDelivery, upTo limit: Int) throws(CaptureError) {
        for _ in 0..<limit {
            let outcome = try link.receiveBatch(delivery.deliver)
            if case .empty = outcome { return }
        }
    }

    /// Reads the kernel's `lost` (as its growth since set-up: records dropped while this source
    /// watched, not before) and `backlog` into the counters (a failed read keeps the last),
    /// and makes sure the source's exec rules are still loaded.
    private func refreshStatus(_ control: AuditLink, othersMissing: inout Bool) {
        guard let status = try? control.status() else { return }
        let lostBefore = snapshot.statusFound?.lost ?? 0
        counters.kernelLost.set(Int(status.lost &- lostBefore))
        counters.kernelBacklog.set(Int(status.backlog))
        update { $0.kernelStatus = status }
        if !status.isLocked { keepOwnRulesLoaded(control, othersMissing: &othersMissing) }
    }

    /// Adds the exec rules this source added at start again when another program removed them
    /// (`auditctl -D`, or `augenrules --load`, whose rules start with `-D`): without them no exec
    /// record comes. They are deleted on stop as before (a rule already gone is fine). Rules that
    /// were loaded before the source started are not its own to put back: their loss is only said
    /// (once, until they are back: `othersMissing`).
    private func keepOwnRulesLoaded(_ control: AuditLink, othersMissing: inout Bool) {
        let own = snapshot.rulesAdded
        let others = snapshot.rulesAlreadyPresent
        guard !own.isEmpty || !others.isEmpty, let loaded = try? control.rules() else { return }
        let missing = Self.missing(own, loaded)
        var missingOthers = Self.missing(others, loaded)
        let alreadySaid = othersMissing
        othersMissing = !missingOthers.isEmpty
        if alreadySaid { missingOthers = [] }
        guard !missing.isEmpty || !missingOthers.isEmpty else { return }
        var added = 0
        for rule in missing where (try? control.add(rule)) != nil { added += 1 }
        counters.auditRulesRestored.count(added)
        var said = "another program removed this agent's audit exec rules (key \(configuration.ruleKey)): "
        if !missing.isEmpty { said += "added \(added) of \(missing.count) again; execs in between were not seen" }
        if !missingOthers.isEmpty {
            said +=
                (missing.isEmpty ? "" : "; ")
                + "\(missingOthers.count) loaded before the agent started are not put back, so execs may go unseen"
        }
        configuration.othersChangedAudit?(said)
    }
}
