import Journal

/// The journal is the agent's incident store.
extension IncidentJournal: IncidentStore, ClosableStore {
    public func trimOutbox(toAtMost maximumDepth: Int) async throws -> Int {
        let trim: OutboxTrim = try await trimOutbox(toAtMost: maximumDepth)
        return trim.dropped
    }
}

/// Opens the agent's journal in its state directory.
public enum AgentJournal {
    public static let open: AgentRuntime.StoreOpener = { state in
        try await IncidentJournal.open(stateDirectory: state.path, trustedOwner: state.user?.uid)
    }
}
