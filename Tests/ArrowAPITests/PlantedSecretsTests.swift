import ArrowApp
import ArrowCore
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Every secret an organization configures — the NetBird setup key and PAT, users' password hashes, a build server's
/// token secret, a webhook's signing secret after its one showing — is planted, then every page an admin can read is
/// fetched: none carries one, and neither does an error about a bad value next to them.
@Suite struct PlantedSecretsTests {
    static let setupKey = "PLANTED-SETUP-KEY-5e1f"
    static let pat = "nbp_PLANTEDPAT" + String(repeating: "x", count: 26)
    static let passwordHash = "$6$planted$PLANTEDHASHvalue"
    static let tokenSecret = "planted-pve-secret-77aa"

    @Test(arguments: TestBackend.allCases)
    func noPlantedSecretIsShownAnywhere(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let alpha = seed.alpha.id.rawValue
            let config = #"{"vpn_config":{"management_url":"https://nb.example.org","setup_key":"\#(Self.setupKey)","api_url":"https://api.netbird.io","api_token":"\#(Self.pat)","groups":["g"]},"users":[{"name":"ops","password_hash":"\#(Self.passwordHash)"}]}"#
            var answers: [String] = []
            let put = try await client.send(.put, "/api/organizations/\(alpha)/client-config", token: seed.alphaAdmin, json: config)
            #expect(put.status == .ok, "\(put.text)")
            answers.append(put.text)
            let server = #"{"id":"pve-s","url":"https://pve.example.org:8006","token_id":"a@pve!t","token_secret":"\#(Self.tokenSecret)","node":"pve1","import_storage":"local"}"#
            answers.append(try await client.send(.post, "/api/organizations/\(alpha)/build-servers", token: seed.alphaAdmin, json: server).text)
            // Errors next to a secret: a bad field in the same document, a duplicate server.
            answers.append(try await client.send(.put, "/api/organizations/\(alpha)/client-config", token: seed.alphaAdmin,
                                                 json: #"{"vpn_config":{"api_token":"\#(Self.pat) with spaces"}}"#).text)
            answers.append(try await client.send(.post, "/api/organizations/\(alpha)/build-servers", token: seed.alphaAdmin, json: server).text)
            answers.append(try await client.send(.post, "/api/organizations/\(alpha)/build-servers", token: seed.alphaAdmin,
                                                 json: server.replacingOccurrences(of: "pve-s", with: "Bad Id")).text)
            for path in ["/api/organizations/\(alpha)/client-config", "/api/organizations/\(alpha)/build-servers", "/api/audit", "/api/me",
                         "/api/organizations/\(alpha)", "/api/vm-build/tasks", "/api/notifications"] {
                let answer = try await client.send(.get, path, token: seed.alphaAdmin)
                #expect(answer.status == .ok, "\(path): \(answer.text)")
                answers.append(answer.text)
            }
            for answer in answers {
                for secret in [Self.setupKey, Self.pat, Self.passwordHash, Self.tokenSecret] {
                    #expect(!answer.contains(secret), "a planted secret in: \(answer.prefix(300))")
                }
            }
        }
    }
}
