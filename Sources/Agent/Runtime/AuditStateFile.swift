import AuditCapture
import Capture
import Journal

#if canImport(Glibc)
import Glibc
#endif

/// `audit-state` in the agent's state directory: the audit state the agent found, written down
/// before it changes audit (see ``AuditStateRecord``). Opened, replaced and removed as
/// ``StateDirectory`` says (no link followed; temporary file, fsync, rename).
public struct AuditStateFile: AuditStateRecordStore {
    static let name = "audit-state"

    public let directory: StateDirectory

    public init(directory: StateDirectory) {
        self.directory = directory
    }

    public var location: String { directory.filePath(Self.name) }

    public func read() throws(CaptureError) -> String? {
        do throws(StateDirectoryError) {
            return try directory.readFile(Self.name).map { String(decoding: $0, as: UTF8.self) }
        } catch {
            throw Self.failure("read the audit state record", error)
        }
    }

    public func write(_ text: String) throws(CaptureError) {
        do throws(StateDirectoryError) {
            try directory.replaceFile(Self.name, with: Array(text.utf8))
        } catch {
            throw Self.failure("write the audit state record", error)
        }
    }

    public func remove() throws(CaptureError) {
        do throws(StateDirectoryError) {
            try directory.removeFile(Self.name)
        } catch {
            throw Self.failure("remove the audit state record", error)
        }
    }

    private static func failure(_ operation: String, _ error: StateDirectoryError) -> CaptureError {
        CaptureError(operation: operation, errno: error.errno ?? EPERM, detail: error.description)
    }
}

extension AgentStateDirectory {
    /// Where the audit sources write down the audit state they found.
    public var auditState: AuditStateFile { AuditStateFile(directory: directory) }
}
