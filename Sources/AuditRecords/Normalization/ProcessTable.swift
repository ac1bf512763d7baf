/// The agent's own record of which program each pid last executed, so an event can name its
/// parent's program (`parentProcName`) without reading `/proc`.
///
/// Bounded by two generations: when the current one is full it becomes the previous one and the
/// older generation is forgotten, so memory stays under `capacity` entries at O(1) per exec.
struct ProcessTable {
    private var current: [Int64: String] = [:]
    private var previous: [Int64: String] = [:]
    private let generationSize: Int

    init(capacity: Int = 32768) {
        generationSize = max(1, capacity / 2)
    }

    func programName(ofPID pid: Int64) -> String? { current[pid] ?? previous[pid] }

    mutating func record(pid: Int64, programName: String) {
        current[pid] = programName
        if current.count >= generationSize {
            previous = current
            current = [:]
            current.reserveCapacity(generationSize)
        }
    }
}
