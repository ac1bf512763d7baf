import Capture
import Foundation
import Testing

@testable import Agent

/// The agent gives back the code pages only starting up touched, and never a page it changed.
@Suite("Start-up code pages")
struct StartupCodePagesTests {
    static let smaps = """
        55fe8048a000-55fe822e0000 r-xp 00000000 fe:01 1234                       /usr/bin/execwatch
        Size:              31064 kB
        Rss:               15248 kB
        Anonymous:             0 kB
        55fe822e0000-55fe823a7000 r--p 01e55000 fe:01 1234                       /usr/bin/execwatch
        Size:                796 kB
        Rss:                 796 kB
        Anonymous:           796 kB
        55fe823a7000-55fe826c0000 rw-p 01f1c000 fe:01 1234                       /usr/bin/execwatch
        Rss:                2080 kB
        Anonymous:           120 kB
        55feb5595000-55feb5609000 rw-p 00000000 00:00 0                          [heap]
        Rss:                 396 kB
        Anonymous:           396 kB
        7f2d48bf9000-7f2d48ffa000 r--s 00000000 00:0e 17                         anon_inode:bpf-map
        Rss:                4100 kB
        Anonymous:             0 kB
        7f2d51c44000-7f2d51d9a000 r-xp 00028000 fe:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                1240 kB
        Anonymous:             0 kB
        7f2d51d9a000-7f2d51ded000 r--p 0017e000 fe:01 99                         /usr/lib/with space/lib.so
        Rss:                 152 kB
        Anonymous:             0 kB
        7f2d52000000-7f2d52001000 r-xp 00000000 fe:01 98                         /usr/lib/untouched.so
        Rss:                   0 kB
        Anonymous:             0 kB
        7ffd1234000-7ffd1236000 r-xp 00000000 00:00 0                            [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        """

    @Test func onlyUnchangedReadOnlyPrivateFileMappingsAreDropped() {
        let mappings = StartupCodePages.mappings(inSmaps: Array(Self.smaps.utf8))
        #expect(mappings.count == 9)
        #expect(mappings[0].start == 0x55fe_8048_a000 && mappings[0].end == 0x55fe_822e_0000)
        #expect(mappings[0].residentBytes == 15248 * 1024 && mappings[0].anonymousBytes == 0)
        #expect(mappings[6].path == "/usr/lib/with space/lib.so")
        let dropped = mappings.filter(\.isUnchangedFileCode).map(\.path)
        // The relocated read-only data (changed pages), the writable data, the heap, the ring
        // (shared), an untouched mapping and the vdso stay.
        #expect(dropped == ["/usr/bin/execwatch", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/with space/lib.so"])
    }

    @Test func aMappingWithoutAnAnonymousLineIsKept() {
        let text = "7f2d51c44000-7f2d51d9a000 r-xp 00028000 fe:01 99 /usr/lib/libc.so.6\nRss: 1240 kB\n"
        let mappings = StartupCodePages.mappings(inSmaps: Array(text.utf8))
        #expect(mappings.count == 1 && !mappings[0].isUnchangedFileCode)
    }

    /// In this test process: its code pages are given back, its resident set shrinks, and the code
    /// still runs (it is read back from the page cache).
    @Test func releasingShrinksTheResidentSetAndTheProcessGoesOn() throws {
        func residentKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
            return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        }
        let before = try residentKiB()
        let released = StartupCodePages.release()
        let after = try residentKiB()
        #expect(released > 1 << 20, "released \(released) bytes")
        #expect(after < before - 1024, "VmRSS \(before) KiB before, \(after) KiB after")
        #expect(StartupCodePages.mappings(inSmaps: Array("x".utf8)).isEmpty)
    }

    /// smaps is read whole (it is far beyond the 8 KiB of a small /proc file), up to its limit.
    @Test func smapsIsReadWholeAndALimitHolds() throws {
        let whole = try #require(SmallProcFile.bytes("/proc/self/smaps", limit: 16 << 20))
        #expect(whole.count > 8192 && whole.last == UInt8(ascii: "\n"))
        #expect(SmallProcFile.bytes("/proc/self/smaps", limit: 1000)?.count == 1000)
        #expect(SmallProcFile.bytes("/nonexistent", limit: 10) == nil)
    }
}
