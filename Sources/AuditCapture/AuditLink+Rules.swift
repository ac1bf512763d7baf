import CAudit
import Capture
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// libaudit keeps the state of the rule being built in globals (see `shim.h`) and numbers its
/// requests with an unlocked static counter: its calls are made one at a time, process-wide.
let libauditLock = Mutex(())

extension AuditLink {
    /// The rules loaded in the kernel (`AUDIT_LIST_RULES`), in order.
    public func rules() throws(CaptureError) -> [AuditRuleListing] {
        var rules: [AuditRuleListing] = []
        try request(
            "list audit rules (AUDIT_LIST_RULES)",
            type: UInt16(AUDIT_LIST_RULES),
            payload: UnsafeRawBufferPointer(start: nil, count: 0),
            until: .done
        ) { message in
            if message.type == UInt16(AUDIT_LIST_RULES), let rule = AuditRuleListing(bytes: message.payload) {
                rules.append(rule)
            }
        }
        return rules
    }

    /// Adds the rule (`audit_add_rule_data`); `EEXIST` when an identical rule is loaded.
    public func add(_ rule: AuditExecRule) throws(CaptureError) {
        try withRuleData(rule, "add audit rule \(rule)") { data in
            audit_add_rule_data(descriptor, data, Int32(AUDIT_FILTER_EXIT), Int32(AUDIT_ALWAYS))
        }
    }

    /// Deletes the rule identical to `rule` (`audit_delete_rule_data`); `ENOENT` when none is loaded.
    public func delete(_ rule: AuditExecRule) throws(CaptureError) {
        try withRuleData(rule, "delete audit rule \(rule)") { data in
            audit_delete_rule_data(descriptor, data, Int32(AUDIT_FILTER_EXIT), Int32(AUDIT_ALWAYS))
        }
    }

    /// Builds the rule with libaudit's helpers, in the order `auditctl` would (arch, system calls,
    /// key: the kernel matches deletions field by field in order), and hands it to `send`, whose
    /// result is libaudit's (negative errno on failure).
    private func withRuleData(
        _ rule: AuditExecRule,
        _ operation: String,
        _ send: (UnsafeMutablePointer<audit_rule_data>) -> Int32
    ) throws(CaptureError) {
        let result: Result<Void, CaptureError> = libauditLock.withLock { _ in
            // `audit_rule_fieldpair_data` may reallocate the rule (string fields): `data` follows it.
            var data: UnsafeMutablePointer<audit_rule_data>? = audit_rule_create_data()
            guard data != nil else { return .failure(CaptureError(operation: operation, errno: ENOMEM)) }
            defer { audit_rule_free_data(data) }
            execwatch_audit_rule_builder_reset()
            var built = audit_rule_fieldpair_data(&data, "arch=\(rule.architecture.rawValue)", Int32(AUDIT_FILTER_EXIT))
            for syscall in rule.syscalls where built == 0 {
                built = audit_rule_syscallbyname_data(data!, syscall) == 0 ? 0 : -1
            }
            if built == 0 {
                execwatch_audit_rule_builder_syscalls_added()
                built = audit_rule_fieldpair_data(&data, "key=\(rule.key)", Int32(AUDIT_FILTER_EXIT))
            }
            guard built == 0 else {
                let detail = "libaudit could not build it (code \(built))"
                return .failure(CaptureError(operation: operation, errno: EINVAL, detail: detail))
            }
            let sent = send(data!)
            return sent < 0 ? .failure(CaptureError(operation: operation, errno: -sent)) : .success(())
        }
        try result.get()
    }
}
