// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "execwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "execwatch", targets: ["execwatch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Event model: LINUX_PROCESS_EXEC events, event time, JSON lines in and out. No I/O.
        .target(name: "ExecEvents"),
        // Raw Linux audit records: parsing (log lines, plugin stream, netlink payloads),
        // reassembly by audit serial, and normalization into ExecEvents.
        .target(name: "AuditRecords", dependencies: ["ExecEvents"]),
        // FortiSIEM rule XML, the filter language, sliding windows and incidents. No I/O.
        .target(name: "RuleEngine", dependencies: ["ExecEvents"]),

        // Live capture: what every source delivers to, and how it is stopped and counted.
        .target(name: "Capture", dependencies: ["ExecEvents"]),
        // libaudit, for the audit netlink link (pkg-config `audit`, Debian's libaudit-dev).
        .systemLibrary(name: "CAudit", pkgConfig: "audit", providers: [.apt(["libaudit-dev"])]),
        // libcap, for dropping the capabilities a source does not need (pkg-config `libcap`).
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        // Audit sources: netlink unicast (the agent is the audit daemon), multicast (read-only
        // beside auditd), and auditd's plugin stream on stdin.
        .target(name: "AuditCapture", dependencies: ["Capture", "CAudit", "ExecEvents"]),
        // Sources without audit: the proc connector, and /proc polling.
        .target(name: "ProcCapture", dependencies: ["Capture", "ExecEvents"]),
        // The local journal of incidents and the forwarder's outbox (SQLite, WAL).
        .target(
            name: "Journal",
            dependencies: [
                "ExecEvents", "RuleEngine",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),

        // The agent daemon: configuration, source selection, the capture thread's pipeline
        // (records -> events -> rules -> incidents), the journal writer, status and signals.
        .target(
            name: "Agent",
            dependencies: [
                "AuditCapture", "AuditRecords", "Capture", "CLibcap", "ExecEvents", "Journal", "ProcCapture",
                "RuleEngine",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The command line: replay, rules check/list/test.
        .executableTarget(
            name: "execwatch",
            dependencies: [
                "Agent", "AuditRecords", "ExecEvents", "Journal", "RuleEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ExecEventsTests", dependencies: ["ExecEvents"]),
        .testTarget(
            name: "AuditRecordsTests",
            dependencies: ["AuditRecords", "ExecEvents"],
            resources: []
        ),
        .testTarget(name: "RuleEngineTests", dependencies: ["RuleEngine", "ExecEvents"]),
        .testTarget(
            name: "AuditCaptureTests",
            dependencies: ["AuditCapture", "Capture", "AuditRecords", "ExecEvents"]
        ),
        .testTarget(name: "ProcCaptureTests", dependencies: ["ProcCapture", "Capture", "ExecEvents"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "RuleEngine", "ExecEvents"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Capture", "ExecEvents", "RuleEngine"]),
    ],
    swiftLanguageModes: [.v6]
)
