// What the proc sources read from the kernel: proc connector datagrams, and the /proc files a
// process controls parts of (`comm` in `stat`, `cmdline`).
import ExecEvents
import FuzzSupport

@testable import ProcCapture

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    ProcConnectorWire.forEachEvent(in: input.bytes) { event in
        _ = event.timestampNanoseconds
    }
    if let stat = ProcStat.parse(input.bytes) {
        _ = TerminalName.name(terminalNumber: stat.terminalNumber)
    }
    _ = ProcStatusIDs.parse(input.bytes)
    let arguments = ArgumentVector(nulTerminated: input.bytes)
    _ = ProgramName.resolve(comm: Array(input.bytes.prefix(16)), arguments: arguments, exe: arguments.last)
    return 0
}

FuzzDriver.run(testOneInput)
