/// The argv of `/proc/PID/cmdline`: arguments separated by NUL bytes.
enum ProcessArguments {
    /// Splits `cmdline` on NUL. The NUL that ends the last argument adds no empty argument; empty
    /// arguments elsewhere are kept. A process that rewrote its argv area (setproctitle) may leave
    /// no final NUL: the trailing bytes are then the last argument.
    static func split(_ cmdline: UnsafeRawBufferPointer) -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        var start = 0
        for index in 0..<cmdline.count where cmdline[index] == 0 {
            arguments.append(Array(cmdline[start..<index]))
            start = index + 1
        }
        if start < cmdline.count { arguments.append(Array(cmdline[start..<cmdline.count])) }
        return arguments
    }
}
