import HostProcesses

/// An exec's command line kept as the probe sent it (the argument area: each argument
/// NUL-terminated, the last maybe cut short) and joined only when a child asks for its parent's
/// command line: most execs (`/bin/true`, a compiler's `cc1`) are never anyone's parent, and
/// joining every exec's arguments cost more than keeping the bytes, which the event holds anyway.
struct ArgumentAreaCommandLine: DeferredCommandLine {
    let area: [UInt8]

    /// The arguments joined by single spaces, as ``KnownProcess/commandLine(_:)`` joins them.
    func decode() -> String? {
        var end = area.count
        if end > 0, area[end - 1] == 0 { end -= 1 }  // the last argument's terminator
        let joined = String(unsafeUninitializedCapacity: end) { text in
            for index in 0..<end { text[index] = area[index] == 0 ? 0x20 : area[index] }
            return end
        }
        return KnownProcess.commandLine(joined: joined)
    }

    var heldBytes: Int { area.capacity }
}
