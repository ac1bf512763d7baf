import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Reloads the rules on SIGHUP until the agent stops: the pipeline takes them at its next input
/// (windows of unchanged rules are kept); rules that do not load leave the current ones in use.
final class RulesReloadService: Service, CustomStringConvertible {
    /// How many rules are in use (`status` shows it).
    let rulesInUse: Atomic<Int>
    private let hangups: UnixSignalsSequence
    private let rulePaths: [String]
    private let pipeline: DetectionPipeline
    private let logger: Logger

    /// `hangups` is trapping SIGHUP already: from then on SIGHUP no longer ends the process.
    init(hangups: UnixSignalsSequence, rulePaths: [String], rules: Int, pipeline: DetectionPipeline, logger: Logger) {
        self.hangups = hangups
        self.rulePaths = rulePaths
        self.rulesInUse = Atomic(rules)
        self.pipeline = pipeline
        self.logger = logger
    }

    var description: String { "rules reload" }

    func run() async {
        for await _ in hangups.cancelOnGracefulShutdown() {
            do {
                let reloaded = try RuleSources.load(rulePaths, logger: logger)
                pipeline.replaceRules(reloaded)
                rulesInUse.store(reloaded.count, ordering: .relaxed)
                logger.notice("rules reloaded", metadata: ["rules": "\(reloaded.count)"])
            } catch {
                logger.error("rules not reloaded, keeping the current ones: \(error)")
            }
        }
    }
}
