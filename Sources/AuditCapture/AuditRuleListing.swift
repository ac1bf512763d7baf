import CAudit

/// A rule as the kernel lists it (`AUDIT_LIST_RULES`), decoded as far as telling the agent's
/// rules apart from everyone else's needs.
public struct AuditRuleListing: Sendable, Equatable {
    /// The filter list (`AUDIT_FILTER_EXIT` = 4, …).
    public var list: UInt32
    /// `AUDIT_ALWAYS` = 2, `AUDIT_NEVER` = 0.
    public var action: UInt32
    /// The fields' types, in order (`AUDIT_ARCH`, `AUDIT_FILTERKEY`, …).
    public var fieldTypes: [UInt32]
    /// The `arch=` value, when the rule has one.
    public var arch: UInt32?
    /// The keys (`-k`); a rule can carry several.
    public var keys: [String]
    /// The system call numbers in the rule's mask.
    public var syscalls: Set<Int32>

    /// Whether this is exactly `rule` (same list, action, fields, arch, key and system calls), as
    /// the kernel would match it for deletion.
    public func isExactly(_ rule: AuditExecRule) -> Bool {
        list == UInt32(AUDIT_FILTER_EXIT) && action == UInt32(AUDIT_ALWAYS)
            && fieldTypes == [UInt32(AUDIT_ARCH), UInt32(AUDIT_FILTERKEY)] && arch == rule.auditArch
            && keys == [rule.key] && syscalls == rule.syscallNumbers
    }

    // struct audit_rule_data: flags, action, field_count, mask[64], fields[64], values[64],
    // fieldflags[64], buflen, buf[]
    private static let maskWords = Int(AUDIT_BITMASK_SIZE)
    private static let maxFields = Int(AUDIT_MAX_FIELDS)
    private static let fieldsOffset = 12 + 4 * maskWords
    private static let valuesOffset = fieldsOffset + 4 * maxFields
    private static let bufferLengthOffset = valuesOffset + 8 * maxFields
    static let fixedSize = bufferLengthOffset + 4

    /// Field types whose value is a string in `buf` (its length in `values`).
    private static let stringFields: Set<UInt32> = [
        13, 14, 15, 16, 17,  // AUDIT_SUBJ_USER … AUDIT_SUBJ_CLR
        19, 20, 21, 22, 23,  // AUDIT_OBJ_USER … AUDIT_OBJ_LEV_HIGH
        UInt32(AUDIT_WATCH), UInt32(AUDIT_DIR), UInt32(AUDIT_EXE), UInt32(AUDIT_FILTERKEY),
    ]

    /// Decodes `struct audit_rule_data`; nil when it is cut short.
    init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.fixedSize else { return nil }
        func word(_ offset: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        list = word(0)
        action = word(4)
        let fieldCount = min(Int(word(8)), Self.maxFields)
        let bufferLength = Int(word(Self.bufferLengthOffset))
        guard bytes.count >= Self.fixedSize + bufferLength else { return nil }
        fieldTypes = []
        keys = []
        var stringOffset = Self.fixedSize
        for index in 0..<fieldCount {
            let type = word(Self.fieldsOffset + 4 * index)
            let value = word(Self.valuesOffset + 4 * index)
            fieldTypes.append(type)
            if type == UInt32(AUDIT_ARCH) { arch = value }
            guard Self.stringFields.contains(type) else { continue }
            let end = min(stringOffset + Int(value), Self.fixedSize + bufferLength)
            if type == UInt32(AUDIT_FILTERKEY) {
                // Several keys are stored joined by 0x01 (AUDIT_KEY_SEPARATOR).
                let text = UnsafeRawBufferPointer(rebasing: bytes[stringOffset..<end])
                keys += text.split(separator: 0x01).map { String(decoding: $0, as: UTF8.self) }
            }
            stringOffset = end
        }
        syscalls = []
        for index in 0..<Self.maskWords {
            let bits = word(12 + 4 * index)
            guard bits != 0 else { continue }
            for bit in 0..<32 where bits & (1 << UInt32(bit)) != 0 { syscalls.insert(Int32(index * 32 + bit)) }
        }
    }
}
