import ConfigurationFiles
import Logging
import RuleEngine

#if canImport(Glibc)
import Glibc
#endif

/// Where the agent's rules come from: the configured paths, or the shipped rules plus the local
/// rules directory.
public enum RuleSources {
    public static let shippedDirectory = "/usr/share/execwatch/rules"
    public static let localDirectory = "/etc/execwatch/rules.d"

    /// The paths in force: the configured ones, or the shipped and local directories that exist
    /// (the source tree's `rules/` when running from a checkout).
    public static func paths(_ configured: [String]) -> [String] {
        if !configured.isEmpty { return configured }
        var paths: [String] = []
        if let override = getenv("EXECWATCH_RULES_DIR") {
            paths.append(String(cString: override))
        } else if isDirectory(shippedDirectory) {
            paths.append(shippedDirectory)
        } else {
            var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
            components.removeLast(4)  // Sources/Agent/Runtime/RuleSources.swift
            paths.append(components.joined(separator: "/") + "/rules")
        }
        if isDirectory(localDirectory) { paths.append(localDirectory) }
        return paths
    }

    /// Loads the rules, logging every error with its position; fails when none loads.
    public static func load(_ configured: [String], logger: Logger) throws(ConfigurationError) -> [Rule] {
        let paths = paths(configured)
        let result = RuleLoader.load(paths: paths)
        for error in result.errors { logger.error("rule error: \(error)") }
        for warning in result.warnings { logger.warning("rule warning: \(warning)") }
        for skipped in result.skipped { logger.notice("rule skipped: \(skipped)") }
        guard !result.rules.isEmpty else {
            throw ConfigurationError(location: paths.joined(separator: ", "), message: "no rules could be loaded")
        }
        return result.rules
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
