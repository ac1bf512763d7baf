import CompressNIO
import NIOCore

/// Decompresses a gzip body chunk by chunk as it arrives, never producing more than `limit` bytes
/// (a gzip bomb stops there), and tells a complete stream from a truncated or corrupt one.
///
/// Several gzip members one after another (RFC 1952 allows it) decompress into one body.
/// zlib reports the end of a member (`Z_STREAM_END`) only when input is left over, so when a chunk
/// ends exactly where zlib stopped, ``finish()`` offers it one more byte: a finished stream takes
/// nothing, an unfinished one takes it.
final class GzipInflater {
    enum Failure: Error, Equatable {
        /// Not gzip, corrupt, or cut short.
        case invalid
        /// The decompressed body would be larger than the limit.
        case tooLarge
    }

    private enum State {
        /// Inside a member: more input is needed.
        case inMember
        /// A member ended; more input may start another.
        case ended
        /// All input was taken and zlib did not say whether the member ended.
        case undetermined
    }

    private enum Step {
        case outputFull
        case needsInput
        case returned
    }

    let limit: Int
    private(set) var output: [UInt8] = []
    private let decompressor: ZlibDecompressor
    private var window: ByteBuffer
    private var state = State.inMember

    init(limit: Int) throws {
        self.limit = limit
        self.decompressor = try ZlibDecompressor(algorithm: .gzip)
        self.window = ByteBufferAllocator().buffer(capacity: 1 << 16)
    }

    /// Decompresses one chunk of the body.
    func feed(_ chunk: ByteBuffer) throws(Failure) {
        var input = chunk
        while true {
            if state == .ended {
                guard input.readableBytes > 0 else { return }
                do { try decompressor.reset() } catch { throw .invalid }
                state = .inMember
            }
            let step = try inflate(&input)
            switch step {
            case .outputFull:
                state = .inMember
                continue  // zlib may hold more output even when all input is taken
            case .needsInput:
                state = .inMember
                return
            case .returned:
                // zlib returns without error either at the end of a member or when it took all
                // input; only input left over proves the end.
                if input.readableBytes > 0 {
                    state = .ended
                    continue
                }
                state = .undetermined
                return
            }
        }
    }

    /// The whole decompressed body, once the last chunk was fed; throws when the stream is
    /// incomplete.
    func finish() throws(Failure) -> [UInt8] {
        switch state {
        case .ended:
            return output
        case .inMember:
            throw .invalid
        case .undetermined:
            var probe = ByteBufferAllocator().buffer(capacity: 1)
            probe.writeInteger(UInt8(0))
            window.clear()
            do {
                try decompressor.inflate(from: &probe, to: &window)
            } catch {
                throw .invalid
            }
            guard probe.readableBytes == 1, window.readableBytes == 0 else { throw .invalid }
            return output
        }
    }

    private func inflate(_ input: inout ByteBuffer) throws(Failure) -> Step {
        window.clear()
        let step: Step
        do {
            try decompressor.inflate(from: &input, to: &window)
            step = .returned
        } catch let error as CompressNIOError where error == .bufferOverflow {
            step = .outputFull
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            step = .needsInput
        } catch {
            throw .invalid
        }
        guard output.count + window.readableBytes <= limit else { throw .tooLarge }
        output.append(contentsOf: window.readableBytesView)
        return step
    }
}
