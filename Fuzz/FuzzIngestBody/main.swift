// The collector's ingest body (`POST /api/v1/incidents`): gzip when the first input byte is odd,
// inflated in chunks as the body arrives under the size limit, then decoded as a batch of
// incidents. Every incident accepted must write JSON that decodes to the same incident.
import ExecEvents
import FuzzSupport
import NIOCore
import RuleEngine

@testable import Collector

let decoder = IncidentBatchDecoder(maxStringBytes: 4096)

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    guard let mode = input.bytes.first else { return 0 }
    let rest = UnsafeRawBufferPointer(rebasing: input.bytes.dropFirst())
    var body: [UInt8]
    if mode & 1 == 1 {
        guard let inflater = try? GzipInflater(limit: 1 << 20) else { return 0 }
        let chunkSize = Int(mode >> 1) + 1
        var offset = 0
        do {
            repeat {
                let end = min(offset + chunkSize, rest.count)
                var chunk = ByteBufferAllocator().buffer(capacity: end - offset)
                chunk.writeBytes(UnsafeRawBufferPointer(rebasing: rest[offset..<end]))
                try inflater.feed(chunk)
                offset = end
            } while offset < rest.count
            body = try inflater.finish()
        } catch {
            return 0
        }
        fuzzCheck(body.count <= inflater.limit, "inflated \(body.count) bytes over the limit")
    } else {
        body = Array(rest)
    }
    guard let batch = try? decoder.decode(body) else { return 0 }
    for incident in batch.incidents {
        let line = incident.jsonLine
        do {
            let again = try Incident(jsonText: line)
            fuzzCheck(again == incident, "incident does not read back as written: \(line)")
        } catch {
            fuzzCheck(false, "accepted incident writes JSON it cannot read (\(error)): \(line)")
        }
    }
    return 0
}

FuzzDriver.run(testOneInput)
