// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "execwatch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "execwatch", targets: ["execwatch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // Event model: LINUX_PROCESS_EXEC events, event time, JSON lines in and out. No I/O.
        .target(name: "ExecEvents"),
        // Raw Linux audit records: parsing (log lines, plugin stream, netlink payloads),
        // reassembly by audit serial, and normalization into ExecEvents.
        .target(name: "AuditRecords", dependencies: ["ExecEvents"]),
        // FortiSIEM rule XML, the filter language, sliding windows and incidents. No I/O.
        .target(name: "RuleEngine", dependencies: ["ExecEvents"]),
        // The command line: replay, rules check/list/test.
        .executableTarget(
            name: "execwatch",
            dependencies: [
                "AuditRecords", "ExecEvents", "RuleEngine",
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
    ],
    swiftLanguageModes: [.v6]
)
