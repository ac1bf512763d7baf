// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "execwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "execwatch", targets: ["execwatch"]),
        .executable(name: "execwatch-collector", targets: ["execwatch-collector"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Configuration files: typed settings read from YAML (the YAML module), with file:line:col errors.
        .target(name: "ConfigurationFiles", dependencies: ["YAML"]),
        // libyaml, the YAML 1.1 parser (pkg-config `yaml-0.1`, Debian's libyaml-dev; runtime libyaml-0-2).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // YAML documents as nodes with line and column, on libyaml: configuration files and Sigma rules.
        .target(name: "YAML", dependencies: ["CYAML"]),
        // Log lines as journald reads them (syslog priority prefixes), for both daemons.
        .target(name: "ServiceLogging", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // Event model: LINUX_PROCESS_EXEC events, event time, JSON lines in and out. No I/O.
        .target(name: "ExecEvents"),
        // What the agent knows of the host's processes, shared by every source: the process table
        // (pid and start time -> program, executable, command line) and the user-name cache.
        .target(name: "HostProcesses", dependencies: ["ExecEvents"]),
        // Raw Linux audit records: parsing (log lines, plugin stream, netlink payloads),
        // reassembly by audit serial, and normalization into ExecEvents.
        .target(name: "AuditRecords", dependencies: ["CPrefetch", "ExecEvents", "HostProcesses"]),
        // Cache prefetch hints (__builtin_prefetch), for replay's second thread.
        .systemLibrary(name: "CPrefetch"),
        // FortiSIEM rule XML, the filter language, sliding windows and incidents. No I/O.
        .target(name: "RuleEngine", dependencies: ["ExecEvents", "ConfigurationFiles", "YAML"]),

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
        // pidfd_open(2), which Swift's Glibc module does not declare.
        .systemLibrary(name: "CPidfd"),
        .target(name: "ProcCapture", dependencies: ["Capture", "CPidfd", "ExecEvents", "HostProcesses"]),
        // libbpf, to load the eBPF probe (pkg-config `libbpf`, Debian's libbpf-dev; runtime libbpf1).
        .systemLibrary(name: "CLibbpf", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev"])]),
        // Compiles the eBPF probe from source with the toolchain's clang and embeds the object.
        .plugin(name: "ExecProbeBuilder", capability: .buildTool()),
        // The eBPF source: a probe on tp_btf/sched_process_exec (C, in Probe/) and its ring buffer.
        .target(
            name: "EBPFCapture",
            dependencies: ["Capture", "CLibbpf", "ExecEvents", "HostProcesses", "ProcCapture"],
            exclude: ["Probe"],
            plugins: ["ExecProbeBuilder"]
        ),
        // What the journal and the collector's SQLite store share: a serial connection on a thread of
        // its own, statements with "doing:" error context, transactions, one migration runner.
        .target(
            name: "SQLiteDatabase",
            dependencies: [
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The local journal of incidents and the forwarder's outbox (SQLite, WAL).
        .target(
            name: "Journal",
            dependencies: [
                "ExecEvents", "RuleEngine", "SQLiteDatabase",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),

        // The agent's forwarder: outbox -> HTTPS (TLS 1.2+, mTLS, bearer token, gzip) -> collector,
        // with batching, backoff and acknowledgement.
        .target(
            name: "Forwarding",
            dependencies: [
                "ConfigurationFiles", "ExecEvents", "Journal", "RuleEngine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The agent daemon: configuration, source selection, the capture thread's pipeline
        // (records -> events -> rules -> incidents), the journal writer, status and signals; its
        // long-running parts are services of one ServiceGroup (swift-service-lifecycle: no Foundation).
        .target(
            name: "Agent",
            dependencies: [
                "AuditCapture", "AuditRecords", "Capture", "CLibcap", "ConfigurationFiles", "EBPFCapture",
                "ExecEvents", "Forwarding", "HostProcesses", "Journal", "ProcCapture", "RuleEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // Values handed from one thread to another through a bounded queue (replay's pipeline).
        .target(name: "ThreadHandOff"),
        // glibc's allocator settings (<malloc.h>), for replay's heap.
        .systemLibrary(name: "CMalloc"),
        // The CPUs this process may run on (sched_getaffinity), for replay's threads.
        .systemLibrary(name: "CSched"),
        // The command line: replay, rules check/list/test.
        .executableTarget(
            name: "execwatch",
            dependencies: [
                "Agent", "AuditRecords", "Capture", "CMalloc", "ConfigurationFiles", "CSched", "ExecEvents",
                "Forwarding", "Journal", "RuleEngine", "ServiceLogging", "ThreadHandOff",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libpq, PostgreSQL's C client (pkg-config `libpq`, Debian's libpq-dev). Used rather than
        // postgres-nio, which imports Foundation and so would link ICU (~45 MB) into the collector.
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The collector's storage of incidents and agent credentials: SQLite (default) or PostgreSQL.
        .target(
            name: "CollectorStorage",
            dependencies: [
                "CLibpq", "ExecEvents", "RuleEngine", "SQLiteDatabase",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The collector's HTTPS server: ingest API, query API, web page, health and metrics.
        .target(
            name: "Collector",
            dependencies: [
                "CollectorStorage", "ConfigurationFiles", "ExecEvents", "RuleEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The collector's command line: serve, agents add/list/revoke, incidents.
        .executableTarget(
            name: "execwatch-collector",
            dependencies: [
                "Collector", "CollectorStorage", "ConfigurationFiles", "ExecEvents", "RuleEngine", "ServiceLogging",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // What several test targets share: temporary directories, file modes, test failures, logs.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "ConfigurationFilesTests", dependencies: ["ConfigurationFiles"]),
        .testTarget(name: "ExecEventsTests", dependencies: ["ExecEvents"]),
        .testTarget(name: "HostProcessesTests", dependencies: ["HostProcesses", "ExecEvents"]),
        .testTarget(
            name: "AuditRecordsTests",
            dependencies: ["AuditRecords", "ExecEvents", "HostProcesses"],
            resources: []
        ),
        .testTarget(name: "RuleEngineTests", dependencies: ["RuleEngine", "ExecEvents"]),
        .testTarget(name: "ThreadHandOffTests", dependencies: ["ThreadHandOff", "Capture"]),
        .testTarget(
            name: "AuditCaptureTests",
            dependencies: ["AuditCapture", "Capture", "AuditRecords", "ExecEvents"]
        ),
        .testTarget(name: "ProcCaptureTests", dependencies: ["ProcCapture", "Capture", "ExecEvents", "HostProcesses"]),
        .testTarget(name: "EBPFCaptureTests", dependencies: ["EBPFCapture", "Capture", "ExecEvents", "HostProcesses"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "RuleEngine", "ExecEvents", "TestSupport"]),
        .testTarget(
            name: "ForwardingTests",
            dependencies: [
                "Forwarding", "Journal", "RuleEngine", "ExecEvents", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CollectorStorageTests",
            dependencies: [
                "CollectorStorage", "RuleEngine", "ExecEvents", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "Collector", "CollectorStorage", "ConfigurationFiles", "RuleEngine", "ExecEvents", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "Capture", "ConfigurationFiles", "ExecEvents", "Forwarding", "Journal", "RuleEngine",
                "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, one per parser of outside input (see Fuzz/ and scripts/fuzz.sh). Declared only
// when EXECWATCH_FUZZ=1, so the normal build and test graph are unchanged; built with
// `-sanitize=fuzzer,address` into their own scratch path (.build-fuzz).
if Context.environment["EXECWATCH_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzAuditLog", ["AuditCapture", "AuditRecords", "ExecEvents", "HostProcesses", "RuleEngine"]),
        ("FuzzAuditNetlink", ["AuditCapture", "AuditRecords", "ExecEvents", "HostProcesses"]),
        ("FuzzProcConnector", ["ProcCapture", "ExecEvents"]),
        ("FuzzRuleXML", ["RuleEngine", "ExecEvents"]),
        ("FuzzSigmaRule", ["RuleEngine", "ExecEvents"]),
        ("FuzzFilterLanguage", ["RuleEngine", "ExecEvents"]),
        ("FuzzConfiguration", ["Agent", "Collector", "ConfigurationFiles"]),
        ("FuzzIngestBody", ["Collector", "ExecEvents", "RuleEngine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzQueryString", ["Collector", "CollectorStorage", "Journal", "ExecEvents"]),
        ("FuzzIncidentJSON", ["RuleEngine", "ExecEvents"]),
        ("FuzzEventJSON", ["RuleEngine", "ExecEvents"]),
    ]
    for target in fuzzTargets {
        package.products.append(.executable(name: target.name, targets: [target.name]))
        package.targets.append(
            .executableTarget(
                name: target.name,
                dependencies: target.dependencies + ["FuzzSupport"],
                path: "Fuzz/\(target.name)"
            )
        )
    }
    // What every fuzz target shares: the libFuzzer driver, the shipped rules, a sample event.
    package.targets.append(
        .target(name: "FuzzSupport", dependencies: ["ExecEvents", "RuleEngine"], path: "Fuzz/FuzzSupport")
    )
}
