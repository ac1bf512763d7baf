import Capture
import Dispatch
import ExecEvents
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Whether a capture source really delivers executions here: `auto` runs a candidate for a moment,
/// execs a harmless probe (`sleep`) and waits to see that exec come through. A source can set up
/// without error and still deliver nothing (the proc connector in a container: the kernel ignores
/// a listen request from outside the initial PID namespace).
///
/// The trial run is a whole run of the source: it sets up, then undoes what it changed (an audit
/// source hands audit back), before the agent runs a fresh instance for real.
enum DeliveryCheck {
    /// What a trial run showed.
    enum Outcome: Equatable {
        case delivered
        /// The source ran but the probe's exec did not come through in time; the reason in words.
        case silent(String)
        /// The source failed (to set up, or while running); its error.
        case failed(String)
        /// No probe could be started: the source could not be judged.
        case unverified(String)
    }

    /// How long a source that reports its own set-up (``ChosenSource/callsWhenSetUp``) may take
    /// to set up: loading and verifying the eBPF probe takes seconds on a busy host.
    static let setUpBound = Duration.seconds(30)

    /// Runs `source` on a thread of its own until it shows a probe's exec or `bound` has passed
    /// since the trial began (probes start 100 ms in, then every 400 ms), then stops it. With
    /// `setUp`, the bound starts once the source has opened it (at most ``setUpBound`` later).
    static func verify(_ source: any CaptureSource, within bound: Duration, setUp: SetUpLatch? = nil) -> Outcome {
        let sink = ProbeSink()
        let stop: StopSignal
        do { stop = try StopSignal() } catch { return .unverified("\(error)") }
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        DetachedThread.start {
            do {
                try source.run(into: sink, until: stop)
            } catch {
                failure.withLock { $0 = "\(error)" }
                sink.sourceEnded()
            }
            finished.signal()
        }
        var probes: [pid_t] = []
        defer {
            for pid in probes {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
        }
        let clock = ContinuousClock()
        var outcome = Outcome.silent("the probe's exec was not seen within \(bound.formattedSeconds)")
        if let setUp {
            let setUpDeadline = clock.now + Self.setUpBound
            while !setUp.isOpen && !sink.isEnded && clock.now < setUpDeadline { _ = sink.wait(milliseconds: 20) }
            if !setUp.isOpen && !sink.isEnded {
                outcome = .silent("it did not finish setting up within \(Self.setUpBound.formattedSeconds)")
            }
        }
        let deadline = clock.now + (setUp == nil || setUp?.isOpen == true ? bound : .zero)
        var nextProbe = clock.now + .milliseconds(100)  // a moment for the source to set up
        while clock.now < deadline {
            if sink.isEnded { break }
            if clock.now >= nextProbe {
                // Several probes: a source that snapshots what exists first must see a later one.
                let token = probeToken(lifetime: bound)
                switch spawnProbe(seconds: token) {
                case .success(let pid):
                    probes.append(pid)
                    sink.expect(pid, token: token)
                case .failure(let reason):
                    if probes.isEmpty { outcome = .unverified(reason.description) }
                }
                if probes.isEmpty { break }
                nextProbe = clock.now + .milliseconds(400)
            }
            if sink.sawProbe {
                outcome = .delivered
                break
            }
            _ = sink.wait(milliseconds: 20)
        }
        if sink.sawProbe { outcome = .delivered }
        stop.signal()
        finished.wait()
        if let failure = failure.withLock({ $0 }) { return .failed(failure) }
        return outcome
    }

    /// Opened by a source's `whenSetUp` during a trial run.
    final class SetUpLatch: Sendable {
        private let opened = Atomic<Bool>(false)
        var isOpen: Bool { opened.load(ordering: .acquiring) }
        func open() { opened.store(true, ordering: .releasing) }
    }

    /// The probe's one argument, a number of seconds no other process is likely to sleep
    /// (`4.382917`): a source outside this process's PID namespace (eBPF in a container reports
    /// the host's pids) is known by it.
    private static func probeToken(lifetime: Duration) -> String {
        "\(lifetime.components.seconds + 2).\(UInt32.random(in: 100_000...999_999))"
    }

    /// Starts `sleep` (a harmless program that stays long enough for a polling source to see it).
    private static func spawnProbe(seconds: String) -> Result<pid_t, ProbeError> {
        for path in ["/bin/sleep", "/usr/bin/sleep"] where access(path, X_OK) == 0 {
            var pid: pid_t = 0
            let arguments = [path, seconds]
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            let result = posix_spawn(&pid, path, nil, nil, &argv, environ)
            if result == 0 { return .success(pid) }
            return .failure(ProbeError(description: "the probe \(path) could not be started: errno \(result)"))
        }
        return .failure(ProbeError(description: "no probe program (/bin/sleep) to exec"))
    }

    struct ProbeError: Error {
        var description: String
    }
}

/// Watches what a trial run delivers for the probe processes' execs: an event with one of their
/// pids, or an audit SYSCALL record naming one (`pid=N`). Called on the capture thread; asked from
/// the checking one.
private final class ProbeSink: CaptureSink, Sendable {
    private struct State {
        var probes: Set<Int32> = []
        var tokens: Set<[UInt8]> = []
        var sawProbe = false
        var ended = false
    }
    private let state = Mutex(State())
    /// Wakes the checking thread when the probe was seen or the source ended.
    private let seen = DispatchSemaphore(value: 0)

    func expect(_ pid: Int32, token: String) {
        state.withLock {
            $0.probes.insert(pid)
            $0.tokens.insert(Array(token.utf8))
        }
    }
    var sawProbe: Bool { state.withLock { $0.sawProbe } }
    var isEnded: Bool { state.withLock { $0.ended } }

    func sourceEnded() {
        state.withLock { $0.ended = true }
        seen.signal()
    }

    func wait(milliseconds: Int) -> Bool {
        seen.wait(timeout: .now() + .milliseconds(milliseconds)) == .success
    }

    func auditRecord(type: UInt16, payload: UnsafeRawBufferPointer) {
        guard type == 1300 else { return }  // AUDIT_SYSCALL: carries the pid
        noteRecord(Array(payload))
    }

    func auditLine(_ line: UnsafeRawBufferPointer) {
        let bytes = Array(line)
        if Self.find(Array("type=SYSCALL".utf8), in: bytes) { noteRecord(bytes) }
    }

    func exec(_ event: ExecEvent) {
        let pid = event.procId.map { Int32(truncatingIfNeeded: $0) }
        let argument = event.args.flatMap { $0.count == 2 ? $0[1] : nil }
        note { state in
            pid.map { state.probes.contains($0) } == true || argument.map { state.tokens.contains($0) } == true
        }
    }

    func idle(now: EventTime) {}

    private func noteRecord(_ record: [UInt8]) {
        note { state in state.probes.contains { Self.find(Array(" pid=\($0) ".utf8), in: record) } }
    }

    /// Whether `needle` occurs in `haystack` (bytes: String's `contains(_:)` would resolve to
    /// Foundation's, which links ICU into the agent).
    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }

    private func note(_ isProbe: (State) -> Bool) {
        let found = state.withLock { state in
            guard !state.sawProbe, isProbe(state) else { return false }
            state.sawProbe = true
            return true
        }
        if found { seen.signal() }
    }
}

extension Duration {
    /// `2 s`, `2.5 s`: a bound as the log says it.
    fileprivate var formattedSeconds: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }
}
