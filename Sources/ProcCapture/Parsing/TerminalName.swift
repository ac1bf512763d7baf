/// The name of a controlling terminal from the `tty_nr` of `/proc/PID/stat`, in the form audit
/// records give it (`pts0`, `tty1`, `ttyS0`), so rules on `tty` see the same value from every
/// source. Other devices (and no terminal) give nil.
enum TerminalName {
    static func name(terminalNumber: UInt32) -> String? {
        guard terminalNumber != 0 else { return nil }
        let major = (terminalNumber >> 8) & 0xfff
        let minor = (terminalNumber & 0xff) | ((terminalNumber >> 12) & 0xfff00)
        switch major {
        case 136...143: return "pts\((major - 136) * 256 + minor)"  // UNIX98_PTY_SLAVE_MAJOR
        case 4 where minor < 64: return "tty\(minor)"  // virtual consoles
        case 4: return "ttyS\(minor - 64)"  // serial ports
        default: return nil
        }
    }
}
