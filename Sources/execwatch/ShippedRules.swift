#if canImport(Glibc)
import Glibc
#endif

/// Where the rules that ship with execwatch are found when no `--rules` is given: the installed
/// location, else the source tree's `rules/` (for a build run from its checkout).
enum ShippedRules {
    static let installedDirectory = "/usr/share/execwatch/rules"

    /// `EXECWATCH_RULES_DIR` first (for packaging tests), then the installed directory, then the
    /// `rules/` folder of the source tree this binary was built from.
    static func directory() -> String? {
        if let override = getenv("EXECWATCH_RULES_DIR") {
            return String(cString: override)
        }
        if isDirectory(installedDirectory) { return installedDirectory }
        // #filePath is Sources/execwatch/ShippedRules.swift in the checkout.
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        let tree = components.joined(separator: "/") + "/rules"
        return isDirectory(tree) ? tree : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
