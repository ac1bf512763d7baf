import AuditCapture
import Capture
import ExecEvents
import Foundation
import Testing

/// The audisp source on pipes: a real captured auditd log, overlong lines, the end of the
/// stream, stop. (No kernel audit involved.)
@Suite("audisp source")
struct AudispSourceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/audit")

    @Test("a captured Debian 12 auditd log through a pipe gives every line and the expected execs")
    func capturedLogThroughPipe() throws {
        let log = try Data(contentsOf: Self.fixtures.appendingPathComponent("captured-debian12.log"))
        let expected = try String(
            contentsOf: Self.fixtures.appendingPathComponent("captured-debian12.expected.tsv"),
            encoding: .utf8
        ).split(separator: "\n").map(String.init)
        let (source, sink) = try Self.run(feeding: log, chunkSizes: [1, 7, 4096, 65_536, 13])

        let lineCount = log.reduce(0) { $0 + ($1 == 0x0a ? 1 : 0) }
        #expect(sink.lines == lineCount)
        #expect(source.counters.delivered.current == lineCount)
        #expect(source.counters.malformed.current == 0)
        #expect(sink.unparsed.isEmpty, "\(sink.unparsed.prefix(3))")
        let decoded = Set(sink.events.map(Self.tsvLine))
        for line in expected { #expect(decoded.contains(line), "missing exec: \(line.prefix(200))") }
    }

    @Test("a line over the maximum is skipped and counted; its neighbours and a last unterminated line arrive")
    func overlongLineAndLastLine() throws {
        var input = Data("first\n".utf8)
        input.append(Data(repeating: UInt8(ascii: "x"), count: 3 * 1024 + 5))
        input.append(Data("\nsecond\nlast without newline".utf8))
        let sink = LineSink()
        var configuration = AudispSource.Configuration()
        configuration.maximumLineLength = 1024
        let source = try Self.run(feeding: input, chunkSizes: [100], configuration: configuration, into: sink)
        #expect(sink.lines == ["first", "second", "last without newline"])
        #expect(source.counters.malformed.current == 1)
    }

    @Test("signalling stop makes run return within half a second while the pipe stays open")
    func stopsPromptly() throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { for end in ends { close(end) } }
        let source = AudispSource(configuration: .init(descriptor: ends[0]))
        let sink = RecordingSink()
        let capture = try BackgroundCapture(source, into: sink)
        // Stopped also when the test fails on the way, so that no source outlives it.
        defer { _ = try? capture.stopAndWait() }
        usleep(300_000)
        let (result, seconds) = try capture.stopAndWait()
        try result.get()
        #expect(seconds < 0.5, "run returned \(seconds) s after stop")
        #expect(sink.idleCalls >= 1)
    }

    /// Writes `input` into a pipe (in chunks of the sizes given, in turn) from another thread
    /// and runs the source on this one until the end of the stream.
    static func run(
        feeding input: Data,
        chunkSizes: [Int],
        configuration: AudispSource.Configuration = .init(),
        into sink: any CaptureSink
    ) throws -> AudispSource {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { close(readEnd) }
        let writer = Thread {
            input.withUnsafeBytes { bytes in
                var offset = 0
                var turn = 0
                while offset < bytes.count {
                    let size = min(chunkSizes[turn % chunkSizes.count], bytes.count - offset)
                    let written = write(writeEnd, bytes.baseAddress! + offset, size)
                    if written <= 0 { break }
                    offset += written
                    turn += 1
                }
            }
            close(writeEnd)
        }
        writer.start()
        var configuration = configuration
        configuration.descriptor = readEnd
        let source = AudispSource(configuration: configuration)
        try source.run(into: sink, until: try StopSignal())
        return source
    }

    static func run(feeding input: Data, chunkSizes: [Int]) throws -> (AudispSource, RecordingSink) {
        let sink = RecordingSink()
        let source = try run(feeding: input, chunkSizes: chunkSizes, into: sink)
        sink.finish()
        return (source, sink)
    }

    /// An event as the fixture's expected file writes it: procName, user, argv in hex.
    static func tsvLine(_ event: ExecEvent) -> String {
        let argv = (event.args ?? []).map { $0.map { String(format: "%02x", $0) }.joined() }
        return "\(event.procName ?? "")\t\(event.user ?? "")\t\(argv.joined(separator: ","))"
    }
}

/// Keeps the lines an audisp source delivers (run on the test's own thread).
final class LineSink: CaptureSink {
    private(set) var lines: [String] = []

    func auditRecord(type: UInt16, payload: UnsafeRawBufferPointer) {}
    func auditLine(_ line: UnsafeRawBufferPointer) { lines.append(String(decoding: line, as: UTF8.self)) }
    func exec(_ event: ExecEvent) {}
    func idle(now: EventTime) {}
}
