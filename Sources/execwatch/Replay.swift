import AuditRecords
import CMalloc
import CSched
import Capture
import ExecEvents
import Synchronization
import ThreadHandOff

/// `execwatch replay` as its options say: an audit log through normalization and the rules.
///
/// With two threads it is a pipeline: a reading thread reads the log and assembles its events
/// (``AuditLogExecReader``) and hands the completed execs, in batches, to the main thread, which
/// derives the events, runs the rules and prints (``ReplayEventStage``). The reading starts while
/// the main thread loads the rules. What is printed, and in which order, is the same as with one.
struct Replay {
    var options: ReplayOptions

    /// Batches that may wait between the threads: enough to ride out the unevenness of either
    /// side, few enough that the lines they refer to stay a few MiB.
    static let batchesInFlight = 8

    func run() throws {
        keepFreedMemoryForReuse()
        let hostName = options.host ?? LocalHost.name
        let threads = options.threads ?? (ReplayOptions.availableCPUs() >= 2 ? 2 : 1)
        let progress = ReadingProgress()
        let cpus = threads >= 2 ? ReplayThreadCPUs.pick() : nil
        // Batches done with go back to the reading thread, which allocated what they hold, to be
        // freed there: freed here, it all left that thread's allocator cache, and every exec it
        // assembled cost a slow allocation (and a consolidation now and then).
        let spent = BoundedHandOff<CompletedExecBatch>(capacity: 2 * Self.batchesInFlight + 2)
        let batches =
            threads >= 2 ? startReading(reportingTo: progress, boundTo: cpus?.reading, freeing: spent) : nil
        let detection =
            options.emit == .events
            ? nil : try Detection(rulePaths: options.rulePaths, agentId: options.agentId ?? hostName)
        // Bound once the rules are loaded: the thread that parses half of the rule files
        // (RuleLoader) would inherit the binding of the one starting it, and share its CPU.
        if let cpus { _ = execwatch_bind_thread_to_cpu(cpus.main) }
        if let detection, detection.mayMatchEveryExec {
            // Every exec's whole event is derived: the reading thread may derive all of it ahead.
            progress.mostWorkAhead.store(AuditLogExecReader.WorkAhead.arguments.rawValue, ordering: .relaxed)
        }
        var stage = ReplayEventStage(
            inputName: LineReader.displayName(of: options.file),
            hostName: hostName,
            emitEvents: options.emit != .incidents,
            detection: detection
        )
        var end: CompletedExecBatch.End?
        if let batches {
            do {
                while end == nil, let batch = try batches.take() {
                    stage.take(batch)
                    progress.offset.store(batch.inputOffset, ordering: .releasing)
                    end = batch.end
                    if end == nil { spent.put(batch) }
                }
            } catch let unopened as UnopenedInput {
                throw reportUnreadable(unopened.error)
            }
        } else {
            let lines = try openInput(options.file)
            lines.releasableOffset = { progress.offset.load(ordering: .relaxed) }
            var reader = AuditLogExecReader(lines: lines, graceMilliseconds: options.graceMilliseconds)
            reader.read { batch in
                stage.take(batch)
                progress.offset.store(batch.inputOffset, ordering: .relaxed)
                end = batch.end
                return .busy
            }
        }
        guard let end else { fatalError("the reading ended without its last batch") }
        if let failure = end.failure {
            StandardError.write("execwatch: \(failure)\n")
            throw ExitWithStatus(status: ExitStatus.failure)
        }
        stage.finish(end.statistics)
        // The lines (a mapping) outlive every event that refers to them.
        withExtendedLifetime(end.lines) {}
    }

    /// Starts the reading thread (on `cpu` alone, when given); its batches arrive through what
    /// this returns, and come back through `spent` once done with, to be freed on that thread.
    /// `spent` never fills: the thread empties it before it hands on each batch, and no more
    /// than the queue's batches and the two at either end can be out meanwhile.
    private func startReading(
        reportingTo progress: ReadingProgress,
        boundTo cpu: Int32?,
        freeing spent: BoundedHandOff<CompletedExecBatch>
    ) -> BoundedHandOff<CompletedExecBatch> {
        let batches = BoundedHandOff<CompletedExecBatch>(capacity: Self.batchesInFlight)
        let file = options.file
        let grace = options.graceMilliseconds
        // What the main thread would do, the reading thread does ahead while it waits for it:
        // for every exec when each one's event is printed or may match a rule (known once the
        // rules are loaded, see run()); else only what every exec's index probe reads (the rest is
        // read for the few execs a rule may match).
        let workAhead: AuditLogExecReader.WorkAhead = options.emit == .incidents ? .identity : .arguments
        progress.mostWorkAhead.store(workAhead.rawValue, ordering: .relaxed)
        DetachedThread.start {
            if let cpu { _ = execwatch_bind_thread_to_cpu(cpu) }
            let lines: LineReader
            do throws(LineReader.ReadError) {
                lines = try LineReader(path: file)
            } catch {
                batches.finish(throwing: UnopenedInput(error: error))
                return
            }
            // Pages go once the main thread is done with the batches that refer to them.
            lines.releasableOffset = { progress.offset.load(ordering: .acquiring) }
            var reader = AuditLogExecReader(lines: lines, graceMilliseconds: grace)
            reader.mostWorkAhead = {
                AuditLogExecReader.WorkAhead(rawValue: progress.mostWorkAhead.load(ordering: .relaxed)) ?? workAhead
            }
            reader.read { batch in
                // Each side's waiting moves work towards it: the main thread ran out of batches
                // (it is the faster), or the queue was full (it is the slower).
                while let done = spent.takeIfAny() { _ = consume done }
                let mainThreadWaited = batches.consumerWaitedSinceAsked()
                let queueWasFull = batches.put(batch)
                return mainThreadWaited ? .waiting : queueWasFull ? .behind : .busy
            }
            batches.finish()
        }
        return batches
    }
}

/// The two CPUs replay's threads are bound to: the one the main thread runs on as replay starts,
/// and the next one this process may run on. Two threads that hand batches to each other and
/// often wait for one another are otherwise packed onto one CPU by the scheduler for long spells
/// (wake-affine placement; virtual machines that pack their vCPUs), where they run no faster than
/// one thread. Binding fails only on CPUs taken away meanwhile: the thread then runs unbound.
private struct ReplayThreadCPUs {
    var main: Int32
    var reading: Int32

    /// Nil when the current CPU cannot be read or this process may run on no other.
    static func pick() -> ReplayThreadCPUs? {
        let main = execwatch_current_cpu()
        let reading = execwatch_next_available_cpu(main)
        guard main >= 0, reading >= 0, reading != main else { return nil }
        return ReplayThreadCPUs(main: main, reading: reading)
    }
}

/// How far the stage that derives events has got in the input (bytes): the reading side hands
/// back the pages before it (see ``LineReader/releasableOffset``); and how much of each exec's
/// work the reading side may take over (``AuditLogExecReader/WorkAhead``, raw value), which the
/// main thread raises once the rules it loads show that every exec may match one.
private final class ReadingProgress: Sendable {
    let offset = Atomic<Int>(0)
    let mostWorkAhead = Atomic<Int>(0)
}

/// The reading thread could not open the input.
private struct UnopenedInput: Error {
    var error: LineReader.ReadError
}

/// Replay allocates and frees each event's buffers (tens of kB for a long argv, more for its
/// JSON line) thousands of times a second. By default glibc hands the top of its heap back to the
/// kernel once 128 KiB of it are free, and maps blocks over its (moving) threshold afresh, so
/// those buffers' pages were faulted in again event after event. Here freed memory stays in the
/// heap for the next event: peak memory is what it was, only the page faults go.
private func keepFreedMemoryForReuse() {
    _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
    _ = mallopt(M_MMAP_THRESHOLD, 16 << 20)
}
