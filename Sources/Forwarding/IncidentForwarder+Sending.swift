import ExecEvents
import Logging
import NIOCore

/// The forwarder's loop: collect a batch, send it, acknowledge or retry.
extension IncidentForwarder {
    /// How one batch (and the halves it may be split into) went.
    enum DeliveryOutcome: Equatable {
        case delivered
        case retry(afterMilliseconds: Int64)
        case cancelled
    }

    func sendUntilCancelled(using client: CollectorClient) async {
        while !Task.isCancelled {
            let batch: OutboxBatch?
            do {
                // While retrying, the rows have waited long enough: no batch window.
                batch = try await collectBatch(windowed: status.consecutiveFailures == 0)
            } catch {
                if Task.isCancelled { break }
                await pause(milliseconds: recordFailure("journal: cannot read the outbox: \(error)", kind: .journal))
                continue
            }
            guard let batch else {
                update { $0.state = .idle }
                _ = await wakeSignal.wait(timeout: pollInterval)
                continue
            }
            switch await deliver(batch, using: client) {
            case .delivered: continue
            case .retry(let milliseconds): await pause(milliseconds: milliseconds)
            case .cancelled: return
            }
        }
    }

    /// The next batch, or nil when the outbox is empty. With `windowed`, waits up to
    /// `batchMaxMilliseconds` after the first row for more rows (taking them at each wake), unless
    /// the batch is full first.
    func collectBatch(windowed: Bool) async throws -> OutboxBatch? {
        var assembler = BatchAssembler(limits: limits)
        let first = try await outbox.pendingOutbox(after: 0, limit: limits.maximumRows)
        guard !first.isEmpty else { return nil }
        update { $0.state = .sending }
        assembler.add(first)
        guard windowed else { return assembler.batch }
        let deadline = ContinuousClock.now + .milliseconds(max(0, configuration.batchMaxMilliseconds))
        while !assembler.isFull, !Task.isCancelled {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero, await wakeSignal.wait(timeout: remaining) else { break }
            assembler.add(try await outbox.pendingOutbox(after: assembler.lastSeq, limit: assembler.remainingRows))
        }
        return assembler.batch
    }

    /// Sends a batch; on a permanent refusal splits it in halves until the refused incident is
    /// alone, and moves that one to the dead letters. Stops at the first failure that calls for a
    /// retry.
    func deliver(_ batch: OutboxBatch, using client: CollectorClient) async -> DeliveryOutcome {
        var pending = [batch]
        while let next = pending.popLast() {
            guard !Task.isCancelled else { return .cancelled }
            update { $0.state = .sending }
            let body: RequestBody
            do {
                body = try RequestBody(next, gzip: configuration.gzip)
            } catch {
                return .retry(afterMilliseconds: recordFailure("cannot compress the request: \(error)", kind: .other))
            }
            let reply: CollectorClient.Reply
            do {
                reply = try await client.post(body)
            } catch {
                if Task.isCancelled { return .cancelled }
                let (reason, kind) = await describe(error)
                return .retry(afterMilliseconds: recordFailure(reason, kind: kind))
            }
            let replyBody = CollectorReplyBody(bytes: reply.body)
            let verdict = CollectorVerdict(
                status: reply.status,
                reasonPhrase: reply.reasonPhrase,
                retryAfter: reply.retryAfter,
                body: replyBody,
                now: .now
            )
            // The collector's wording may change from one reply to the next; its status does not.
            let failureKey = "HTTP \(reply.status)"
            let failureKind = ForwardFailureKind(httpStatus: reply.status)
            switch verdict {
            case .accepted:
                do {
                    _ = try await outbox.acknowledge(seqs: next.seqs)
                } catch {
                    let reason = "journal: cannot acknowledge \(next.seqs.count) forwarded rows: \(error)"
                    return .retry(afterMilliseconds: recordFailure(reason, kind: .journal))
                }
                recordSuccess(rows: next.seqs.count, reply: replyBody)
            case .refusedContent(let status, let reason):
                if let (first, second) = next.halves() {
                    logger.debug(
                        "the collector refused a batch of \(next.items.count) incidents (\(reason)): sending it in halves"
                    )
                    pending.append(second)
                    pending.append(first)
                    continue
                }
                guard let item = next.items.first else { continue }
                do {
                    _ = try await outbox.deadLetter(seqs: item.seqs, status: status, reason: reason)
                } catch {
                    let reason = "journal: cannot keep the refused incident \(item.entry.incidentId): \(error)"
                    return .retry(afterMilliseconds: recordFailure(reason, kind: .journal))
                }
                recordRejection(item, status: status, reason: reason)
            case .unauthorized(let reason):
                return .retry(afterMilliseconds: recordFailure(reason, kind: failureKind, key: failureKey))
            case .retryLater(let reason, let retryAfter):
                return .retry(
                    afterMilliseconds: recordFailure(
                        reason,
                        kind: failureKind,
                        key: failureKey,
                        retryAfterMilliseconds: retryAfter
                    )
                )
            }
        }
        return .delivered
    }

    /// The failure in words, and its kind; a refused server certificate is examined with a probe
    /// connection.
    func describe(_ error: CollectorClient.Failure) async -> (String, ForwardFailureKind) {
        let failure = TransportFailure(
            error.underlying,
            presentsClientCertificate: credentials.presentsClientCertificate && endpoint.usesTLS,
            onNewConnection: error.onNewConnection
        )
        guard failure == .serverCertificateRejected else {
            return (failure.reason(endpoint: endpoint, configuration: configuration), failure.kind)
        }
        let chain = await ServerCertificateProbe.presentedChain(
            endpoint: endpoint,
            tlsConfiguration: tlsConfiguration,
            timeout: .milliseconds(Int64(max(1, configuration.connectTimeoutMilliseconds)))
        )
        let diagnosis = ServerCertificateDiagnosis(
            presented: (chain ?? []).map(ServerCertificateDiagnosis.Certificate.init),
            trusted: credentials.trustedCAs?.map(ServerCertificateDiagnosis.Certificate.init),
            trustSource: credentials.caFile ?? "the system trust store"
        )
        return (diagnosis.reason(now: EventTime.now.millisecondsSinceEpoch / 1000), .tls)
    }

    /// Counts a failed attempt, logs it as loudly as ``FailureLogPolicy`` says (a failure is "the
    /// same" as the previous one when its `key`, by default its reason, is), and returns how long to
    /// wait before the next one.
    func recordFailure(
        _ reason: String,
        kind: ForwardFailureKind,
        key: String? = nil,
        retryAfterMilliseconds: Int64? = nil
    ) -> Int64 {
        let now = EventTime.now
        let (failures, level) = progress.withLock { progress in
            progress.status.retries += 1
            progress.status.consecutiveFailures += 1
            progress.status.lastError = reason
            progress.status.lastErrorKind = kind
            progress.status.lastErrorAt = now
            progress.status.state = .retrying
            let level = progress.failureLog.failed(key: key ?? reason, now: Self.monotonicMilliseconds)
            return (progress.status.consecutiveFailures, level)
        }
        let wait = retryAfterMilliseconds ?? Int64(backoff.delayMilliseconds(afterFailures: failures))
        let waitText = retryAfterMilliseconds != nil ? "\(wait) ms as the collector asked (Retry-After)" : "\(wait) ms"
        switch level {
        case .error:
            logger.error("cannot forward incidents: \(reason); retrying (next in \(waitText))")
        case .warning:
            logger.warning("still cannot forward incidents after \(failures) attempts: \(reason); retrying")
        case .debug:
            logger.debug("attempt \(failures) failed: \(reason); next in \(waitText)")
        }
        return wait
    }

    func recordSuccess(rows: Int, reply: CollectorReplyBody) {
        let now = EventTime.now
        let failedBefore = progress.withLock { progress in
            progress.status.forwarded += rows
            progress.status.lastSuccessAt = now
            progress.status.consecutiveFailures = 0
            return progress.failureLog.succeeded()
        }
        if failedBefore > 0 {
            logger.info("forwarding works again after \(failedBefore) failed attempts")
        }
        logger.trace(
            """
            forwarded \(rows) incident changes (collector: accepted \(reply.accepted ?? -1), \
            created \(reply.created ?? -1), updated \(reply.updated ?? -1), unchanged \(reply.unchanged ?? -1))
            """
        )
    }

    func recordRejection(_ item: OutboxBatch.Item, status httpStatus: Int, reason: String) {
        let now = EventTime.now
        update { status in
            status.rejected += item.seqs.count
            status.lastError = "incident \(item.entry.incidentId) refused: \(reason)"
            status.lastErrorAt = now
        }
        // 413 for an incident alone: it is larger than the collector takes (its limits.maxBodyBytes).
        let size = httpStatus == 413 ? " (\(item.entry.json.utf8.count) bytes of JSON)" : ""
        logger.error(
            """
            the collector refused incident \(item.entry.incidentId) version \(item.entry.version)\(size) for good: \
            \(reason); kept in the journal's dead letters (execwatch incidents --rejected)
            """,
            metadata: ["incidentId": "\(item.entry.incidentId)", "version": "\(item.entry.version)"]
        )
    }

    /// Waits, unless the task is cancelled.
    func pause(milliseconds: Int64) async {
        guard milliseconds > 0 else { return }
        try? await Task.sleep(for: .milliseconds(milliseconds))
    }

    static var monotonicMilliseconds: Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }
}
