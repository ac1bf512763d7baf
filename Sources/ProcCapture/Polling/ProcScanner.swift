import Capture

#if canImport(Glibc)
import Glibc
#endif

/// Lists the processes in /proc with what their `stat` says (one read per process).
/// Belongs to one thread; reuses its buffers across scans.
struct ProcScanner {
    private let files = ProcFiles(initialCapacity: 4096)

    /// Replaces `processes` with the processes running now. A process that exits while the scan
    /// runs is left out.
    func scan(into processes: inout [ScannedProcess]) throws(CaptureError) {
        processes.removeAll(keepingCapacity: true)
        guard let directory = opendir("/proc") else { throw CaptureError(operation: "opendir(/proc)", errno: errno) }
        defer { closedir(directory) }
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(directory) {
            let name = UnsafeRawPointer(entry) + nameOffset
            guard let pid = Self.pid(named: name) else { continue }
            let stat = try? files.read("stat", of: pid, ProcStat.parse)
            guard let stat else { continue }
            processes.append(
                ScannedProcess(
                    pid: pid,
                    parentPID: stat.parentPID,
                    startTime: stat.startTime,
                    image: ProgramImage(startCode: stat.startCode, startStack: stat.startStack),
                    isKernelThread: stat.isKernelThread
                )
            )
        }
    }

    /// The pid a /proc entry's NUL-terminated name spells; nil for entries that are not processes.
    private static func pid(named name: UnsafeRawPointer) -> Int32? {
        var value: Int32 = 0
        var index = 0
        while true {
            let byte = name.load(fromByteOffset: index, as: UInt8.self)
            if byte == 0 { break }
            guard byte >= 0x30, byte <= 0x39, index < 10 else { return nil }
            let (scaled, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = scaled &+ Int32(byte - 0x30)
            index += 1
        }
        return index > 0 && value > 0 ? value : nil
    }
}
