import CollectorStorage
import ExecEvents
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Collector

@Suite("Authentication over HTTP")
struct AuthenticationTests {
    @Test("a valid token is accepted and names the sender")
    func validToken() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.ingest(
                Fixtures.jsonArray([Fixtures.incident()]),
                headers: collector.ingestHeaders()
            )
            #expect(response.status == .ok)
            let stored = try await collector.store.incidents(IncidentQuery())
            #expect(stored.incidents.first?.receivedFrom == "web-1")
        }
    }

    @Test("no token: 401 missing bearer token, with a Bearer challenge")
    func missingToken() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.ingest("[]", headers: [.contentType: "application/json"])
            #expect(response.status == .unauthorized)
            #expect(response.errorReason == "missing bearer token")
            #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"execwatch-collector\"")
        }
        let metrics = String(decoding: collector.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains(#"execwatch_collector_auth_failures_total{reason="missing"} 1"#))
    }

    @Test("an unknown token: 401 unknown token")
    func unknownToken() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.ingest(
                "[]",
                headers: [.contentType: "application/json", .authorization: "Bearer \(CredentialToken.generate())"]
            )
            #expect(response.status == .unauthorized)
            #expect(response.errorReason == "unknown token")
        }
    }

    @Test("a revoked agent's token: 401 unknown token")
    func revokedToken() async throws {
        let collector = try await TestCollector.make()
        #expect(try await collector.store.revokeCredential(name: TestCollector.agentName, role: .agent, at: .now))
        try await collector.test { client throws in
            let response = try await client.ingest("[]", headers: collector.ingestHeaders())
            #expect(response.status == .unauthorized)
            #expect(response.errorReason == "unknown token")
        }
    }

    @Test("authentication comes before the body is looked at")
    func authenticationFirst() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.ingest("not json", headers: [.contentType: "text/plain"])
            #expect(response.status == .unauthorized)
        }
    }

    @Test("reading needs a reader: 401 with a Basic challenge; a reader's token as bearer or Basic password works")
    func readCredentials() async throws {
        let collector = try await TestCollector.make()
        let basic = "Basic " + base64("anyone:\(collector.readerToken)")
        try await collector.test { client throws in
            for uri in ["/", "/api/v1/incidents"] {
                let refused = try await client.execute(uri: uri, method: .get)
                #expect(refused.status == .unauthorized)
                #expect(refused.headers[.wwwAuthenticate] == "Basic realm=\"execwatch-collector\", charset=\"UTF-8\"")
                #expect(refused.errorReason?.hasPrefix("missing credentials") == true)

                #expect(try await client.execute(uri: uri, method: .get, headers: collector.readerBearer).status == .ok)
                #expect(
                    try await client.execute(uri: uri, method: .get, headers: [.authorization: basic]).status == .ok
                )

                let wrong = try await client.execute(
                    uri: uri,
                    method: .get,
                    headers: [.authorization: "Basic " + base64("anyone:ewt_wrong")]
                )
                #expect(wrong.status == .unauthorized)
                #expect(wrong.errorReason == "unknown token")
            }
        }
    }

    @Test("an agent's token reads nothing: 403, as bearer and as Basic password")
    func agentCannotRead() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            for uri in ["/", "/api/v1/incidents", "/api/v1/incidents?hostName=web-1"] {
                for headers: HTTPFields in [
                    collector.bearer, [.authorization: "Basic " + base64("web-1:\(collector.token)")],
                ] {
                    let response = try await client.execute(uri: uri, method: .get, headers: headers)
                    #expect(response.status == .forbidden, "\(uri)")
                    #expect(
                        response.errorReason
                            == "\"web-1\" is an agent; agents cannot read incidents: use a reader's token "
                            + "(execwatch-collector readers add NAME)"
                    )
                    #expect(!response.text.contains("PH_Rule"))
                }
            }
        }
    }

    @Test("a reader's token sends nothing: 403, nothing stored")
    func readerCannotSend() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            var headers = collector.ingestHeaders()
            headers[.authorization] = "Bearer \(collector.readerToken)"
            let response = try await client.ingest(Fixtures.jsonArray([Fixtures.incident()]), headers: headers)
            #expect(response.status == .forbidden)
            #expect(response.errorReason == "\"ops\" is a reader; readers cannot send incidents")
            #expect(try await collector.store.incidentCount() == 0)
        }
    }

    @Test("a revoked reader's token: 401 unknown token")
    func revokedReader() async throws {
        let collector = try await TestCollector.make()
        #expect(try await collector.store.revokeCredential(name: TestCollector.readerName, role: .reader, at: .now))
        try await collector.test { client throws in
            let response = try await client.execute(uri: "/", method: .get, headers: collector.readerBearer)
            #expect(response.status == .unauthorized)
            #expect(response.errorReason == "unknown token")
        }
    }

    @Test("web.auth off leaves reading open, not ingest")
    func webAuthOff() async throws {
        let collector = try await TestCollector.make { $0.webAuth = .off }
        try await collector.test { client throws in
            #expect(try await client.execute(uri: "/", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/v1/incidents", method: .get).status == .ok)
            #expect(try await client.ingest("[]", headers: [.contentType: "application/json"]).status == .unauthorized)
        }
    }

    @Test("/healthz and /metrics need no credentials")
    func openEndpoints() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
        }
    }

    private func base64(_ text: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let bytes = Array(text.utf8)
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(position)) & 63)] : "=")
            }
            index += 3
        }
        return out
    }
}

@Suite("Authentication rules")
struct AccessPolicyTests {
    let tokenOnly = AccessPolicy(clientAuth: .off, webAuth: .token)
    let required = AccessPolicy(clientAuth: .required, webAuth: .token)
    let optional = AccessPolicy(clientAuth: .optional, webAuth: .token)

    @Test("Authorization headers are read case-insensitively; malformed ones are told apart")
    func credentials() {
        #expect(PresentedCredential(authorizationHeader: nil) == PresentedCredential.none)
        #expect(PresentedCredential(authorizationHeader: "Bearer ewt_abc") == .bearer(token: "ewt_abc"))
        #expect(PresentedCredential(authorizationHeader: "bearer  ewt_abc ") == .bearer(token: "ewt_abc"))
        #expect(PresentedCredential(authorizationHeader: "Bearer") == .malformed(scheme: "Bearer"))
        #expect(
            PresentedCredential(authorizationHeader: "Basic dXNlcjpld3Rfc2VjcmV0")
                == .basic(user: "user", password: "ewt_secret")
        )
        #expect(
            PresentedCredential(authorizationHeader: "Basic OmV3dF9zZWNyZXQ=")
                == .basic(user: "", password: "ewt_secret")
        )
        #expect(PresentedCredential(authorizationHeader: "Basic !!!") == .malformed(scheme: "Basic"))
        #expect(PresentedCredential(authorizationHeader: "Basic bm9jb2xvbg==") == .malformed(scheme: "Basic"))
        #expect(PresentedCredential(authorizationHeader: "Digest x") == .otherScheme("Digest"))
    }

    @Test("ingest without certificates needs a bearer token")
    func ingestTokenOnly() {
        #expect(tokenOnly.decide(.ingest, certificateName: nil, credential: .none) == .deny(.missingBearerToken))
        #expect(
            tokenOnly.decide(.ingest, certificateName: nil, credential: .basic(user: "u", password: "t"))
                == .deny(.missingBearerToken)
        )
        #expect(
            tokenOnly.decide(.ingest, certificateName: nil, credential: .bearer(token: "t"))
                == .checkToken("t", certificateName: nil)
        )
        // A certificate name cannot come from a connection without client certificates.
        #expect(tokenOnly.decide(.ingest, certificateName: "web-1", credential: .none) == .deny(.missingBearerToken))
    }

    @Test("clientAuth required: the certificate's agent is looked up; a token sent must still be checked")
    func ingestWithCertificate() {
        #expect(required.decide(.ingest, certificateName: "web-1", credential: .none) == .checkCertificate("web-1"))
        #expect(
            required.decide(.ingest, certificateName: "web-1", credential: .bearer(token: "t"))
                == .checkToken("t", certificateName: "web-1")
        )
        #expect(
            required.decide(.ingest, certificateName: "web-1", credential: .malformed(scheme: "Bearer"))
                == .deny(.malformedAuthorization(scheme: "Bearer"))
        )
    }

    @Test("clientAuth optional: a certificate or a token")
    func ingestOptional() {
        #expect(optional.decide(.ingest, certificateName: "web-1", credential: .none) == .checkCertificate("web-1"))
        #expect(optional.decide(.ingest, certificateName: nil, credential: .none) == .deny(.missingBearerToken))
        #expect(
            optional.decide(.ingest, certificateName: nil, credential: .bearer(token: "t"))
                == .checkToken("t", certificateName: nil)
        )
    }

    @Test("reading: bearer, or Basic with a token as password; a client certificate does not count")
    func read() {
        #expect(tokenOnly.decide(.read, certificateName: nil, credential: .none) == .deny(.missingCredentials))
        #expect(
            tokenOnly.decide(.read, certificateName: nil, credential: .basic(user: "x", password: "t"))
                == .checkToken("t", certificateName: nil)
        )
        #expect(
            tokenOnly.decide(.read, certificateName: nil, credential: .malformed(scheme: "Basic"))
                == .deny(.malformedAuthorization(scheme: "Basic"))
        )
        #expect(required.decide(.read, certificateName: "ops", credential: .none) == .deny(.missingCredentials))
        #expect(
            required.decide(.read, certificateName: "ops", credential: .bearer(token: "t"))
                == .checkToken("t", certificateName: nil)
        )
        let open = AccessPolicy(clientAuth: .off, webAuth: .off)
        #expect(open.decide(.read, certificateName: nil, credential: .none) == .allow(.anonymous))
        #expect(open.decide(.ingest, certificateName: nil, credential: .none) == .deny(.missingBearerToken))
    }

    @Test("tokens: ewt_ and 64 hex digits, different every time; the hash is SHA-256 hex")
    func tokens() {
        let token = CredentialToken.generate()
        #expect(token.hasPrefix("ewt_"))
        #expect(token.utf8.count == 68)
        #expect(token.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(CredentialToken.generate() != token)
        #expect(CredentialToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("agent and reader names: 1 to 64 of A-Z a-z 0-9 . _ -")
    func agentNames() {
        #expect(CredentialToken.isValidName("web-1.example_org"))
        #expect(CredentialToken.isValidName(String(repeating: "a", count: 64)))
        #expect(!CredentialToken.isValidName(""))
        #expect(!CredentialToken.isValidName(String(repeating: "a", count: 65)))
        #expect(!CredentialToken.isValidName("web 1"))
        #expect(!CredentialToken.isValidName("wéb"))
    }

    @Test("valid tokens are cached briefly; a revoke takes effect when the entry expires")
    func tokenCache() async throws {
        let store = InMemoryCollectorStore()
        try await store.addCredential(
            Credential(name: "web-1", role: .agent, tokenHash: CredentialToken.hash("ewt_x"), createdAt: .now)
        )
        let verifier = CredentialVerifier(store: store, cacheLifetime: .milliseconds(200))
        #expect(try await verifier.credential(forToken: "ewt_x")?.name == "web-1")
        #expect(try await verifier.credential(forToken: "ewt_x")?.name == "web-1")
        #expect(await store.tokenLookups == 1)
        #expect(try await store.revokeCredential(name: "web-1", role: .agent, at: .now))
        #expect(try await verifier.credential(forToken: "ewt_x")?.name == "web-1")
        try await Task.sleep(for: .milliseconds(250))
        #expect(try await verifier.credential(forToken: "ewt_x") == nil)
        #expect(try await verifier.credential(forToken: "ewt_unknown") == nil)
        #expect(await store.tokenLookups == 3)
    }
}

@Suite("Certificate agents")
struct CertificateAgentTests {
    private func authenticator(_ store: InMemoryCollectorStore, cache: Duration = .seconds(10)) -> Authenticator {
        Authenticator(
            policy: AccessPolicy(clientAuth: .required, webAuth: .token),
            credentials: CredentialVerifier(store: store, cacheLifetime: cache),
            metrics: CollectorMetrics()
        )
    }

    private func store(with credentials: [(CredentialRole, String, String)]) async throws -> InMemoryCollectorStore {
        let store = InMemoryCollectorStore()
        for (role, name, token) in credentials {
            try await store.addCredential(
                Credential(name: name, role: role, tokenHash: CredentialToken.hash(token), createdAt: .now)
            )
        }
        return store
    }

    @Test("a certificate whose CN is a registered agent authenticates as that agent")
    func registered() async throws {
        let store = try await store(with: [(.agent, "web-1", "ewt_web")])
        let client = try await authenticator(store).resolve(.checkCertificate("web-1"), for: .ingest, logger: .quiet)
        #expect(client == AuthenticatedClient(name: "web-1", method: .certificate))
    }

    @Test("an unknown CN, or a reader's name, is a 401 naming the CN")
    func unknown() async throws {
        let store = try await store(with: [(.reader, "ops", "ewt_ops")])
        for name in ["web-9", "ops"] {
            let error = await #expect(throws: APIError.self) {
                try await authenticator(store).resolve(.checkCertificate(name), for: .ingest, logger: .quiet)
            }
            #expect(error?.status == .unauthorized)
            #expect(error?.reason == "client certificate CN \"\(name)\" is not a registered agent (or it was revoked)")
            #expect(error?.headers[.wwwAuthenticate] == "Bearer realm=\"execwatch-collector\"")
        }
    }

    @Test("agents revoke stops a certificate agent once the cache entry expires")
    func revoked() async throws {
        let store = try await store(with: [(.agent, "web-1", "ewt_web")])
        let authenticator = authenticator(store, cache: .milliseconds(200))
        _ = try await authenticator.resolve(.checkCertificate("web-1"), for: .ingest, logger: .quiet)
        #expect(try await store.revokeCredential(name: "web-1", role: .agent, at: .now))
        try await Task.sleep(for: .milliseconds(250))
        let error = await #expect(throws: APIError.self) {
            try await authenticator.resolve(.checkCertificate("web-1"), for: .ingest, logger: .quiet)
        }
        #expect(error?.status == .unauthorized)
        #expect(await store.nameLookups == 2)
    }

    @Test("a certificate and a token must be the same agent's")
    func certificateAndToken() async throws {
        let store = try await store(with: [(.agent, "web-1", "ewt_web"), (.agent, "db-1", "ewt_db")])
        let same = try await authenticator(store).resolve(
            .checkToken("ewt_web", certificateName: "web-1"),
            for: .ingest,
            logger: .quiet
        )
        #expect(same == AuthenticatedClient(name: "web-1", method: .certificate))
        let error = await #expect(throws: APIError.self) {
            try await authenticator(store).resolve(
                .checkToken("ewt_db", certificateName: "web-1"),
                for: .ingest,
                logger: .quiet
            )
        }
        #expect(error?.status == .forbidden)
        #expect(error?.reason == "the token is agent \"db-1\"'s, the client certificate names \"web-1\"")
    }
}

@Suite("Client certificates")
struct ClientCertificateTests {
    static let withCommonName = """
        -----BEGIN CERTIFICATE-----
        MIIBwzCCAWmgAwIBAgIUFjeUojP97pDJjS0xv968Lu/bsXEwCgYIKoZIzj0EAwIw
        NjEYMBYGA1UECgwPZXhlY3dhdGNoIHRlc3RzMRowGAYDVQQDDBF3ZWItMS5leGFt
        cGxlLm9yZzAgFw0yNjExMjkwOTIyNTBaGA8yMTI2MTEwNTA5MjI1MFowNjEYMBYG
        A1UECgwPZXhlY3dhdGNoIHRlc3RzMRowGAYDVQQDDBF3ZWItMS5leGFtcGxlLm9y
        ZzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABOKA7P1Rukv+dDUEVdJqnwsf7mRx
        qzCU2yUnBJZcSE5ZvUeqxVG2JIGbzOr8wZnTai20y4KZb84vMUAoVoEGwq+jUzBR
        MB0GA1UdDgQWBBRtk3AxVr0xEyYlAcYU9YIenJCDDDAfBgNVHSMEGDAWgBRtk3Ax
        Vr0xEyYlAcYU9YIenJCDDDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA
        MEUCIDye2Z1SV2KcrC/8nf040W2Gv93LVMda/VjPFYu6yJ9HAiEAxxpAvpOfH+vM
        V9L5CDwNF4mafWMtMyPTdq+L5HOy19o=
        -----END CERTIFICATE-----
        """

    static let withoutCommonName = """
        -----BEGIN CERTIFICATE-----
        MIIBiTCCAS+gAwIBAgIUOin6CeoEjXWcpwF5VLVxMHxusD8wCgYIKoZIzj0EAwIw
        GTEXMBUGA1UECgwObm8gY29tbW9uIG5hbWUwIBcNMjYxMTI5MDkyMjUwWhgPMjEy
        NjExMDUwOTIyNTBaMBkxFzAVBgNVBAoMDm5vIGNvbW1vbiBuYW1lMFkwEwYHKoZI
        zj0CAQYIKoZIzj0DAQcDQgAEu9TMCfhtpgQHPH8usRideglOmyrdHCLFlimLMRM9
        QXC9XoOaxwqNFprDBchT9ntuXoEZMnCJWQJyvJxAQdvdPaNTMFEwHQYDVR0OBBYE
        FIk6QFBFNSUPE+6rbLiKC0O1x3d2MB8GA1UdIwQYMBaAFIk6QFBFNSUPE+6rbLiK
        C0O1x3d2MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgXZSLHdL9
        BjYEEC6zT+qHzjBUqjM4C8Wz8dstVVvDG7kCIQCEqUEUM6461Q9mx/YrL2K42SSS
        9EB9JvBuvzpdRFiNvA==
        -----END CERTIFICATE-----
        """

    @Test("the agent is named by the subject CN, not by O or the issuer")
    func commonName() throws {
        #expect(try ClientCertificate.commonName(pem: Self.withCommonName) == "web-1.example.org")
        #expect(try ClientCertificate.commonName(pem: Self.withoutCommonName) == nil)
        #expect(throws: (any Error).self) { try ClientCertificate.commonName(pem: "not a certificate") }
    }
}
