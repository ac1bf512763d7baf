import ExecEvents

/// Runs rules over events and keeps the incidents they raise. Synchronous, I/O-free, driven by event
/// time only (replaying a log gives the incidents live capture gave).
///
/// For each matching event `e` of group `g` (the tuple of the rule's GroupByAttr values, `hostName`
/// always included), in input order, the aggregate constraint is evaluated over the events of `g`
/// with time in `(t_e − window, t_e]`. If it holds, `g`'s incident is created (count = those events,
/// firstSeen = the earliest, lastSeen = t_e) or updated (count grows by the events of that window not
/// counted before, lastSeen = t_e); `version` grows with each. Events are never counted twice.
/// A Sigma temporal correlation (``Rule/correlatedRules``) enters an event once for each rule
/// it correlates that the event matches, tagged with that rule, in the group that rule's fields
/// give; its aggregate counts the distinct tags (and, when ordered, looks for them in order).
///
/// Memory is bounded in bytes (``EngineConfiguration/maxBytes``) and in entries: old window
/// entries are dropped, least recently used groups evicted, least recently changed incidents
/// forgotten. Incidents are kept apart from windows, so a group evicted and seen again continues
/// its incident: same id, count and version go on. Incidents kept by a journal can be handed back with
/// ``restore(_:)`` after a restart.
public struct DetectionEngine: Sendable {
    public let configuration: EngineConfiguration
    public internal(set) var counters = EngineCounters()

    /// The rules in force, active and inactive, in load order.
    public internal(set) var rules: [Rule] = []
    /// The active rules, in rule order (the index refers to them by position).
    var active: [ActiveRule] = []
    var index = RuleIndex([])
    /// The active rules' filters as flat programs, by position (what ``process(_:)`` evaluates).
    var programs = FilterPrograms([])
    var nextRuleNumber = 0
    var groups = LRUTable<GroupKey, GroupWindow>()
    var incidentTable = LRUTable<IncidentID, Incident>()
    /// Window of each active rule in milliseconds, by engine rule number and by rule id (for
    /// forgetting closed groups and incidents).
    var windowByRuleNumber: [Int: Int64] = [:]
    var windowByRuleId: [String: Int64] = [:]
    private var candidates: [Int] = []
    /// The last event's guard findings, the storage of the next one's (see ``GuardFindings``).
    private var findings = GuardFindings()

    public init(rules: [Rule], configuration: EngineConfiguration) {
        self.configuration = configuration
        _ = replaceRules(rules)
    }

    /// Evaluates one event against every rule that may match it; returns the incidents it created or
    /// updated, in rule order.
    ///
    /// The event is consumed: it moves into the rules' ``FilterSubject``, which a borrowed one
    /// would have been copied into (each of its two dozen texts retained and released).
    public mutating func process(_ event: consuming ExecEvent) -> [IncidentUpdate] {
        counters.eventsProcessed += 1
        var updates: [IncidentUpdate] = []
        // Derives the joined argv, and finds the guards' literals in it, once for all candidates.
        var subject = FilterSubject(event, guards: index.guards, findings: findings)
        findings = GuardFindings()  // the subject's sets alone: changed in place, not copied
        index.candidates(for: &subject, into: &candidates)
        let programs = self.programs
        for position in candidates {
            let activeRule = active[position]
            if activeRule.isCorrelation {
                advanceCorrelation(activeRule, subject: &subject, into: &updates)
                continue
            }
            counters.filterEvaluations += 1
            guard programs.matches(position, &subject) else { continue }
            counters.matches += 1
            let values = activeRule.keyAttributes.map { subject.event.value(of: $0) }
            if let update = advance(activeRule, with: subject.event, groupValues: values) {
                updates.append(update)
            }
        }
        findings = subject.findings
        if configuration.forgetsClosedGroups { forgetClosed(before: subject.event.eventTime) }
        enforceMemoryBudget()
        return updates
    }

    /// Whether some rule may match `event`, judged from its `eventType`, `procName`, `invokedPath`
    /// and `exePath` alone (the rule index; its parent's facts are not looked at, so a probe
    /// without them is enough). When false, ``process(_:)`` would evaluate no filter, so a caller
    /// may skip deriving costly attributes (arguments, the parent) for this event.
    public func mayMatch(_ event: ExecEvent) -> Bool {
        index.hasCandidates(for: event)
    }

    /// Whether ``mayMatch(_:)`` holds for every exec (a rule requires no program name, or only
    /// its parent's): then every exec's whole event is derived, and a source may as well derive
    /// it ahead, on another thread.
    public var mayMatchEveryExec: Bool { index.hasCandidatesForEveryExec }

    /// The programs rules name: the `procName` values and `Image` program names rules are filed
    /// under in the rule index, folded to lower case. A rule can match an exec filed under none of
    /// them only if it requires no program name (filed under "any") or only its parent's: a source
    /// may deliver execs of these programs at once and the others in batches.
    public var namedPrograms: Set<String> { index.namedPrograms }

    /// ``mayMatch(_:)``, and false too when no rule that may match has its guard (see
    /// ``RuleIndex``: texts one of which its filter requires in the command line or `Image`) in
    /// `event`'s paths or in `argumentArea`, the exec's argv as the source read it (each argument
    /// NUL-terminated, the last maybe not), which stands for the `args` the event lacks yet. Still
    /// a necessary condition: when false, ``process(_:)`` of the whole event evaluates no filter.
    public func mayMatch(_ event: ExecEvent, argumentArea: [UInt8]) -> Bool {
        index.hasCandidates(for: event, argumentArea: argumentArea)
    }

    /// All incidents remembered, ordered by first time seen, then id.
    public var incidents: [Incident] {
        incidentTable.values.sorted { ($0.firstSeen, $0.incidentId) < ($1.firstSeen, $1.incidentId) }
    }

    public func incident(id: IncidentID) -> Incident? {
        incidentTable.peek(id)
    }

    /// Hands back an incident known from before (e.g. from the journal after a restart), so that the
    /// next trigger of its group updates it (count and version go on) instead of creating it. An
    /// incident already known with a version at least as high is left as it is.
    public mutating func restore(_ incident: Incident) {
        if let known = incidentTable.peek(incident.incidentId), known.version >= incident.version { return }
        incidentTable.remove(incident.incidentId)
        insertIncident(incident)
        enforceMemoryBudget()
    }

    /// Forgets the groups and incidents closed at `time` (see
    /// ``EngineConfiguration/forgetsClosedGroups``). Both tables are in use order, which is event
    /// order, so the closed ones are the oldest: it stops at the first one still open (one with a
    /// longer window may hold back shorter ones behind it until it closes too). An event from
    /// before a clock step back closes nothing newer than itself.
    mutating func forgetClosed(before time: EventTime) {
        let horizon = time.millisecondsSinceEpoch - EngineConfiguration.closedMarginMilliseconds
        while let (key, window) = groups.oldestEntry,
            window.newest.millisecondsSinceEpoch + (windowByRuleNumber[key.rule] ?? 0) < horizon,
            let closed = groups.removeOldest()
        {
            counters.groupsClosed += 1
            counters.bytesEvicted += UInt64(closed.bytes)
        }
        while let (_, incident) = incidentTable.oldestEntry,
            incident.lastSeen.millisecondsSinceEpoch + (windowByRuleId[incident.ruleId] ?? 0) < horizon,
            let closed = incidentTable.removeOldest()
        {
            counters.incidentsClosed += 1
            counters.bytesEvicted += UInt64(closed.bytes)
        }
    }

    /// Brings the bytes held within ``EngineConfiguration/maxBytes``: first incidents within half
    /// of it (least recently changed forgotten), then groups (least recently used evicted, the
    /// group just used last; even it goes when it alone is over budget).
    mutating func enforceMemoryBudget() {
        let budget = configuration.maxBytes
        while incidentTable.bytes > budget / 2, let forgotten = incidentTable.removeOldest() {
            counters.incidentsForgotten += 1
            counters.bytesEvicted += UInt64(forgotten.bytes)
        }
        while groups.bytes + incidentTable.bytes > budget, let evicted = groups.removeOldest() {
            counters.groupsEvicted += 1
            counters.bytesEvicted += UInt64(evicted.bytes)
        }
        counters.groupsLive = groups.count
        counters.bytesHeld = groups.bytes + incidentTable.bytes
    }

    // MARK: - One rule, one event

    /// A Sigma temporal correlation and the subject's event: the rules it correlates that the
    /// event matches, by group (their group values may differ through aliases); each group's
    /// window advances once with an entry tagged for each of them.
    private mutating func advanceCorrelation(
        _ activeRule: ActiveRule,
        subject: inout FilterSubject,
        into updates: inout [IncidentUpdate]
    ) {
        guard let correlated = activeRule.rule.correlatedRules else { return }
        var matched: [(values: [AttributeValue?], tags: [Int])] = []
        for (tag, filter) in correlated.filters.enumerated() {
            counters.filterEvaluations += 1
            guard filter.matches(&subject) else { continue }
            let values = correlated.groupSources[tag].map { subject.event.value(of: $0) }
            if let k = matched.firstIndex(where: { $0.values == values }) {
                matched[k].tags.append(tag)
            } else {
                matched.append((values, [tag]))
            }
        }
        guard !matched.isEmpty else { return }
        counters.matches += 1
        for group in matched {
            if let update = advance(activeRule, with: subject.event, groupValues: group.values, tags: group.tags) {
                updates.append(update)
            }
        }
    }

    /// Adds `event` to the window of its group (`groupValues`, of the rule's group attributes) —
    /// once, or for a temporal correlation once per correlated rule it matched (`tags`) — and
    /// creates or updates the group's incident when the rule's condition holds.
    private mutating func advance(
        _ activeRule: ActiveRule,
        with event: ExecEvent,
        groupValues values: [AttributeValue?],
        tags: [Int] = []
    ) -> IncidentUpdate? {
        // Read through the class: a copy of the rule would retain each of its texts.
        let keyAttributes = activeRule.keyAttributes
        let key = GroupKey(rule: activeRule.number, values: values)
        let windowMilliseconds = activeRule.rule.windowSeconds * 1000
        let time = event.eventTime

        var entryValues: [AttributeValue?] = []
        if !activeRule.rule.aggregate.countsOnly {
            entryValues = activeRule.rule.aggregate.attributes.map { event.value(of: $0) }
        }
        let entry = WindowEntry(time: time, counted: false, values: entryValues)
        let tagSlot =
            tags.isEmpty ? nil : activeRule.rule.aggregate.attributes.firstIndex(of: CorrelatedRules.tagAttribute)
        // temporal_ordered: the correlated rules' entries must be in the window in their order.
        var order: (tagSlot: Int, count: Int)?
        if let tagSlot, let correlated = activeRule.rule.correlatedRules, correlated.ordered {
            order = (tagSlot, correlated.filters.count)
        }
        // The group key (the group's values, its command line among them) is hashed once.
        var slot = groups.slot(of: key)
        if slot == nil {
            let id = Self.incidentID(rule: activeRule.rule, attributes: keyAttributes, values: values)
            var window = GroupWindow(incidentId: id, time: time)
            window.hasIncident = incidentTable.contains(id)
            slot = groups.insert(key, window)
            while groups.count > configuration.maxLiveGroups, let evicted = groups.removeOldest() {
                counters.groupsEvicted += 1
                counters.bytesEvicted += UInt64(evicted.bytes)
            }
            // maxLiveGroups is at least 1: the group just inserted, the newest, is never evicted.
        }
        let limits = (maxEntries: configuration.maxEventsPerGroup, maxTrigger: configuration.maxTriggerEvents)
        // Update the window; decide and take what the incident needs while holding the group.
        let outcome = groups.use(slot: slot!) { window -> WindowOutcome in
            var dropped = 0
            if let tagSlot {  // one entry per correlated rule matched, tagged with it
                for tag in tags {
                    var tagged = entry
                    tagged.values[tagSlot] = .integer(Int64(tag))
                    dropped += window.insert(
                        tagged,
                        windowMilliseconds: windowMilliseconds,
                        maxEntries: limits.maxEntries
                    )
                }
            } else {
                dropped = window.insert(entry, windowMilliseconds: windowMilliseconds, maxEntries: limits.maxEntries)
            }
            window.remember(event, limit: limits.maxTrigger)
            let range = window.range(endingAt: time, windowMilliseconds: windowMilliseconds)
            // The range holds at least this event (one a window older than the rest restarts the window).
            guard !range.isEmpty, activeRule.rule.aggregate.holds(over: window.entries[range]),
                order.map({ window.hasTagsInOrder(range, tagSlot: $0.tagSlot, count: $0.count) }) ?? true
            else {
                return WindowOutcome(incidentId: window.incidentId, dropped: dropped)
            }
            let earliestInWindow = window.entries[range.lowerBound].time
            let (newlyCounted, earliestNew) = window.markCounted(range)
            var trigger: [ExecEvent] = []
            if !window.hasIncident {
                trigger = window.takeTriggerEvents(endingAt: time, windowMilliseconds: windowMilliseconds)
                window.hasIncident = true
            }
            return WindowOutcome(
                incidentId: window.incidentId,
                dropped: dropped,
                triggered: range,
                newlyCounted: newlyCounted,
                earliestNew: earliestNew,
                earliestInWindow: earliestInWindow,
                triggerEvents: trigger
            )
        }
        counters.windowEntriesDropped += UInt64(outcome.dropped)
        guard let range = outcome.triggered else { return nil }
        let incidentId = outcome.incidentId
        let newlyCounted = outcome.newlyCounted
        let earliest = outcome.earliestNew

        if let changed = incidentTable.use(
            incidentId,
            { incident, resized -> Incident in
                incident.count += newlyCounted
                if let earliest, earliest < incident.firstSeen { incident.firstSeen = earliest }
                if time > incident.lastSeen { incident.lastSeen = time }
                incident.version += 1
                resized = Self.refresh(&incident, from: activeRule.rule)  // only texts change its footprint
                return incident
            }
        ) {
            counters.incidentsUpdated += 1
            return IncidentUpdate(kind: .updated, incident: changed, countIncrement: newlyCounted)
        }
        let incident = Incident(
            incidentId: incidentId,
            ruleId: activeRule.rule.id,
            ruleName: activeRule.rule.name,
            incidentType: activeRule.rule.incidentType,
            severity: activeRule.rule.severity,
            category: activeRule.rule.category,
            tactics: activeRule.rule.tactics,
            techniques: activeRule.rule.techniques,
            hostName: event.hostName,
            attributes: Self.mappedAttributes(
                rule: activeRule.rule,
                keyAttributes: keyAttributes,
                values: values,
                event: event
            ),
            count: Int64(range.count),
            firstSeen: outcome.earliestInWindow ?? time,
            lastSeen: time,
            version: 1,
            agentId: configuration.agentId,
            triggerEvents: outcome.triggerEvents.isEmpty ? [event] : outcome.triggerEvents,
            ruleAuthor: activeRule.rule.author,
            ruleSource: activeRule.rule.sourceReference
        )
        insertIncident(incident)
        counters.incidentsCreated += 1
        // A group whose incident was forgotten counted some of these events already.
        return IncidentUpdate(kind: .created, incident: incident, countIncrement: newlyCounted)
    }

    private mutating func insertIncident(_ incident: Incident) {
        incidentTable.insert(incident.incidentId, incident)
        while incidentTable.count > configuration.maxIncidents, let forgotten = incidentTable.removeOldest() {
            counters.incidentsForgotten += 1
            counters.bytesEvicted += UInt64(forgotten.bytes)
        }
    }

    /// Rule facts may change on a reload; an updated incident shows the rule as it is now. Each is
    /// compared first: mostly they are the rule's own texts (compared by reference), and an update
    /// then neither retains them anew nor releases the incident's. Returns whether a text changed.
    private static func refresh(_ incident: inout Incident, from rule: Rule) -> Bool {
        incident.severity = rule.severity
        var changed = false
        func update<T: Equatable>(_ field: inout T, to value: T) {
            guard field != value else { return }
            field = value
            changed = true
        }
        update(&incident.ruleName, to: rule.name)
        update(&incident.incidentType, to: rule.incidentType)
        update(&incident.category, to: rule.category)
        update(&incident.tactics, to: rule.tactics)
        update(&incident.techniques, to: rule.techniques)
        update(&incident.ruleAuthor, to: rule.author)
        update(&incident.ruleSource, to: rule.sourceReference)
        return changed
    }

    static func incidentID(rule: Rule, attributes: [EventAttribute], values: [AttributeValue?]) -> IncidentID {
        var others: [(name: String, value: AttributeValue?)] = []
        for k in 1..<attributes.count { others.append((attributes[k].name, values[k])) }
        return IncidentID(ruleId: rule.id, hostName: values[0]?.description ?? "", groupValues: others)
    }

    /// ArgList values: from the group when the attribute is a group attribute, else from the event
    /// that triggered. Attributes without a value are left out.
    static func mappedAttributes(
        rule: Rule,
        keyAttributes: [EventAttribute],
        values: [AttributeValue?],
        event: ExecEvent
    ) -> [IncidentAttribute] {
        var result: [IncidentAttribute] = []
        for mapping in rule.incidentAttributes {
            let value: AttributeValue?
            if let k = keyAttributes.firstIndex(of: mapping.attribute) {
                value = values[k]
            } else {
                value = event.value(of: mapping.attribute)
            }
            if let value { result.append(IncidentAttribute(name: mapping.name, value: value)) }
        }
        return result
    }
}

/// A rule the engine runs, with the engine's number for it (group keys refer to it; it stays the
/// same across reloads while the rule is unchanged) and its group attributes, computed once.
///
/// A class: every event hands its matching rules on, and a struct was copied there (every text
/// and list of the rule retained and released) once per match.
final class ActiveRule: Sendable {
    let rule: Rule
    let number: Int
    let keyAttributes: [EventAttribute]
    /// Whether the rule is a Sigma temporal correlation (``Rule/correlatedRules``).
    let isCorrelation: Bool

    init(rule: Rule, number: Int) {
        self.rule = rule
        self.number = number
        self.keyAttributes = rule.groupKeyAttributes
        self.isCorrelation = rule.correlatedRules != nil
    }
}

/// What updating a group's window decided.
private struct WindowOutcome {
    var incidentId: IncidentID
    var dropped: Int
    /// The window range when the aggregate held, else nil.
    var triggered: Range<Int>? = nil
    var newlyCounted: Int64 = 0
    var earliestNew: EventTime? = nil
    var earliestInWindow: EventTime? = nil
    var triggerEvents: [ExecEvent] = []
}
