#if canImport(Glibc)
import Glibc
#endif

/// An environment variable, or nil when unset.
func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
