import Logging
import Synchronization

/// Says once, at warning, that an agent sends an incident field this collector does not know
/// (a newer agent's), which is ignored: once per agent and field, so a busy agent does not
/// flood the log.
///
/// At most `capacity` (agent, field) pairs are remembered; once full, one more warning says so
/// and later new pairs go unlogged, so that an agent sending ever new field names cannot grow the
/// collector's memory.
final class UnknownFieldLog: Sendable {
    let capacity: Int

    private struct State {
        var seen: Set<[String]> = []
        var saidFull = false
    }

    private let state = Mutex(State())

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func report(_ fields: Set<String>, from agent: String, logger: Logger) {
        guard !fields.isEmpty else { return }
        var first: [String] = []
        var full = false
        state.withLock { state in
            for field in fields.sorted() {
                guard !state.seen.contains([agent, field]) else { continue }
                guard state.seen.count < capacity else {
                    if !state.saidFull {
                        state.saidFull = true
                        full = true
                    }
                    break
                }
                state.seen.insert([agent, field])
                first.append(field)
            }
        }
        for field in first {
            logger.warning(
                "ignoring incident field \"\(field)\", which this collector does not know (a newer agent?)",
                metadata: ["client": "\(agent)"]
            )
        }
        if full {
            logger.warning(
                "ignoring more unknown incident fields without logging them: \(capacity) (agent, field) pairs logged already"
            )
        }
    }
}
