import AuditRecords
import ProcCapture

/// In live audit capture, the process table checks and completes what it knows of parents in /proc.
extension RunningProcessReader: RunningProcesses {}
