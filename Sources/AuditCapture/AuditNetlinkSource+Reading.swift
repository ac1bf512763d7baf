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
                refreshStatus(control)
            }
        }
        try drain(link, delivery, upTo: 10_000)  // bounded: records keep coming until the rules go
        counters.socketOverruns.count(link.overruns - overrunsCounted)
        refreshStatus(control)
    }

    /// Delivers queued datagrams until none is left or `limit` were read (so stop is seen soon).
    private func drain(_ link: AuditLink, _ delivery: AuditRecordDelivery, upTo limit: Int) throws(CaptureError) {
        for _ in 0..<limit {
            let outcome = try link.receiveBatch(delivery.deliver)
            if case .empty = outcome { return }
        }
    }

    /// Reads the kernel's `lost` and `backlog` into the counters; a failed read keeps the last.
    private func refreshStatus(_ control: AuditLink) {
        guard let status = try? control.status() else { return }
        counters.kernelLost.set(Int(status.lost))
        counters.kernelBacklog.set(Int(status.backlog))
        update { $0.kernelStatus = status }
    }
}
