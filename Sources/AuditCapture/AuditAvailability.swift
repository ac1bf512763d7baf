import Capture

#if canImport(Glibc)
import Glibc
#endif

/// What this host and process allow for the audit sources, found by looking (nothing is
/// changed): for `--source auto` to say "source X because Y".
public struct AuditAvailability: Sendable {
    /// An audit source `auto` can choose.
    public enum SourceKind: String, Sendable {
        case audisp
        case auditMulticast = "audit-multicast"
        case auditUnicast = "audit-unicast"
    }

    /// The source `auto` should use, and why, in words ("source X because Y").
    public struct Recommendation: Sendable, Equatable {
        /// Nil: no audit source can work here (use a /proc source).
        public var source: SourceKind?
        public var reason: String
    }

    /// The process registered as the audit daemon.
    public struct Owner: Sendable, Equatable {
        public var pid: Int32
        /// Its command name (`/proc/PID/comm`); nil when it is gone.
        public var name: String?
        public var isAlive: Bool
        public var isThisProcess: Bool
    }

    /// Why the audit netlink socket could not be opened (e.g. `EPROTONOSUPPORT`: no audit in the
    /// kernel); nil when it could.
    public var openError: CaptureError?
    /// The kernel's audit status; nil when it could not be read (see ``statusError``).
    public var status: AuditKernelStatus?
    public var statusError: CaptureError?
    /// The registered audit daemon; nil when none is.
    public var owner: Owner?
    /// Whether the agent's exec rules (for the key probed) are all loaded already.
    public var agentRulesLoaded: Bool
    /// CAP_AUDIT_CONTROL (30) is effective: status, rules, registering as the daemon.
    public var hasAuditControl: Bool
    /// CAP_AUDIT_READ (37) is effective: the read-only multicast group.
    public var hasAuditRead: Bool
    /// The pid of auditd when it started this process as its plugin (parent named `auditd`,
    /// standard input a pipe or socket).
    public var auditdParent: Int32?
    /// `"PID"` or `"user"` when this process is outside the host's initial namespace of that kind
    /// (a container), where the kernel refuses audit requests whatever the capabilities.
    public var nonInitialNamespace: String?

    /// Looks at the audit state and this process's capabilities.
    public static func probe(ruleKey: String = "execwatch") -> AuditAvailability {
        let capabilities = EffectiveCapabilities(of: .main) ?? EffectiveCapabilities(mask: 0)
        var availability = AuditAvailability(
            agentRulesLoaded: false,
            hasAuditControl: capabilities.contains(30),
            hasAuditRead: capabilities.contains(37),
            auditdParent: pluginParent(),
            nonInitialNamespace: LinuxProcess.nonInitialNamespace()
        )
        let link: AuditLink
        do {
            link = try AuditLink()
        } catch {
            availability.openError = error
            return availability
        }
        do {
            let status = try link.status()
            availability.status = status
            if status.pid != 0 {
                let pid = Int32(bitPattern: status.pid)
                availability.owner = Owner(
                    pid: pid,
                    name: LinuxProcess.commandName(of: pid),
                    isAlive: LinuxProcess.isAlive(pid),
                    isThisProcess: pid == getpid()
                )
            }
            let loaded = try link.rules()
            availability.agentRulesLoaded = AuditExecRule.agentRules(key: ruleKey).allSatisfy { rule in
                loaded.contains { $0.isExactly(rule) }
            }
        } catch {
            availability.statusError = error
        }
        return availability
    }

    /// The audit source to use, or nil (then a /proc source) — and why, in words.
    public var recommendation: Recommendation {
        let use = Recommendation.init(source:reason:)
        if let auditdParent {
            return use(.audisp, "started by auditd (pid \(auditdParent)) with its plugin stream on standard input")
        }
        if let nonInitialNamespace {
            // The kernel answers EPERM or ECONNREFUSED there (a container's seccomp filter may even
            // fail the socket with EAFNOSUPPORT), which would otherwise read as missing support.
            return use(
                nil,
                "this process is not in the host's initial \(nonInitialNamespace) namespace (a container): the kernel takes audit requests only from the initial PID and user namespaces"
            )
        }
        if let openError { return use(nil, "the audit netlink socket cannot be opened: \(openError)") }
        if status == nil, statusError?.errno == EPERM, !hasAuditControl {
            return use(nil, "CAP_AUDIT_CONTROL is missing: the audit status cannot be read")
        }
        guard let status else {
            return use(nil, "the audit status cannot be read: \(statusError.map(\.description) ?? "unknown error")")
        }
        if status.isLocked && !agentRulesLoaded {
            return use(nil, "audit is locked (enabled=2) and the agent's exec rules are not loaded")
        }
        if let owner, owner.isAlive {
            let who = "audit is owned by pid \(owner.pid) (\(owner.name ?? "unknown"))"
            if owner.isThisProcess { return use(nil, "\(who): this process is already the audit daemon") }
            if status.enabled == 0 { return use(nil, "\(who) but disabled (enabled=0)") }
            guard hasAuditRead else { return use(nil, "\(who) and CAP_AUDIT_READ is missing to read beside it") }
            guard hasAuditControl else { return use(nil, "\(who) and CAP_AUDIT_CONTROL is missing to manage rules") }
            return use(.auditMulticast, "\(who): reading its records read-only (multicast)")
        }
        guard hasAuditControl else {
            return use(nil, "no audit daemon is registered and CAP_AUDIT_CONTROL is missing to become it")
        }
        if let owner {
            return use(
                .auditUnicast,
                "the registered audit daemon (pid \(owner.pid)) is gone: becoming the audit daemon"
            )
        }
        return use(.auditUnicast, "no audit daemon is registered: becoming the audit daemon")
    }

    /// auditd's pid when it is this process's parent and standard input is a pipe or socket.
    private static func pluginParent() -> Int32? {
        let parent = getppid()
        guard LinuxProcess.commandName(of: parent) == "auditd" else { return nil }
        var info = stat()
        guard fstat(STDIN_FILENO, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        return kind == S_IFIFO || kind == S_IFSOCK ? parent : nil
    }
}
