import ExecEvents
import HostProcesses

/// An exec's command line as its EXECVE records hold it, for the process table: decoded (hex,
/// split arguments, as ``AuditEventAssembler/CompletedExec/decodeArguments()`` decodes them) only
/// when a child's event asks for its parent's command line.
///
/// `@unchecked Sendable`: the records are never written through (copies owned here, or borrowed
/// bytes of a read-only file mapping), so reading them from any thread races with nothing; a
/// borrowed record must outlive the table holding it, as the assembler's `borrowsRecordBytes`
/// promise says.
struct ExecveCommandLine: DeferredCommandLine, @unchecked Sendable {
    let records: [RecordBody]

    func decode() -> String? {
        var arguments = ExecveArguments()
        for record in records { record.withBytes { arguments.ingest(body: $0) } }
        return KnownProcess.commandLine(arguments.finish())
    }

    /// The records held, or the text they may decode into, whichever is more. The text has at most
    /// one and a half times their length (two hex digits of a byte that is not UTF-8 become the
    /// three of U+FFFD; the empty arguments of an `argc` larger than the fields given aside), and at
    /// most the limit (and a U+FFFD for a character cut there).
    var heldBytes: Int {
        var held = HeapAllocation.bytes(holding: records.capacity * MemoryLayout<RecordBody>.stride)
        var length = 0
        for record in records {
            held += record.heldBytes
            length += record.count
        }
        let text = min(length + length / 2, KnownProcess.commandLineLimit + 2) + 1
        return max(held, HeapAllocation.bytes(holding: text))
    }
}
