import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Hostile and careless input at the API's edges, on both databases: concurrent deletes, media types, malformed JSON,
/// non-UTF-8 form values and loose query parameters all get one clear, stable answer.
@Suite struct EdgeCaseAPITests {
    @Test(arguments: TestBackend.allCases)
    func ofConcurrentDeletesOfOneImageExactlyOneSucceeds(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            for round in 0..<3 {
                let bytes = ImageFixtures.raw((1 << 20) + 512 + round)
                let id = try #require(try await client.upload(bytes, as: "d.raw", token: seed.alphaAdmin).json()["id"] as? String)
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<3 { group.addTask { try await client.send(.delete, "/api/vm_images/\(id)", token: seed.alphaAdmin).status.code } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.sorted() == [204, 404, 404], "round \(round): \(statuses)")
            }
            let audit = try await client.send(.get, "/api/audit?limit=200", token: seed.alphaAdmin).text
            #expect(audit.components(separatedBy: "\"image.deleted\"").count - 1 == 3, "one audit event per image")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func jsonEndpointsWantJSONAndSayWhatIsWrongPlainly(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let image = seed.betaImageID
            // Wrong media type: 415, on Codable and on key-checked endpoints alike.
            for (method, path) in [(HTTPRequest.Method.post, "/api/tokens"), (.patch, "/api/vm_images/\(image)"), (.post, "/api/auth/login")] {
                let response = try await client.execute(uri: path, method: method, headers: [.authorization: "Bearer \(seed.betaAdmin)", .contentType: "text/plain"],
                                                        body: ByteBuffer(string: #"{"name":"x"}"#))
                #expect(response.status == .unsupportedMediaType, "\(method) \(path)")
                #expect(response.errorCode == "unsupported_media_type")
            }
            // Malformed JSON: invalid_json everywhere, with the field named and no decoder internals.
            let cases: [(HTTPRequest.Method, String, String, String)] = [
                (.post, "/api/auth/login", #"{"email":"a@b.c"}"#, "password is missing"),
                (.post, "/api/auth/login", #"{"email":1,"password":"x"}"#, "email must be a string"),
                (.post, "/api/auth/login", #"{"email":"#, "The body is not valid JSON"),
                (.post, "/api/tokens", #"{"name":"x","scopes":"image.read"}"#, "scopes must be a list"),
                (.patch, "/api/vm_images/\(image)", #"[1,2]"#, "The body must be a JSON object"),
            ]
            for (method, path, body, message) in cases {
                let response = try await client.send(method, path, token: seed.betaAdmin, json: body)
                #expect(response.status == .badRequest, "\(path) \(body)")
                #expect(response.errorCode == "invalid_json", "\(path) \(body): \(response.text)")
                let text = (try response.json()["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(text == message, "\(path) \(body)")
                #expect(!text.contains("Coding") && !text.contains("key"), "\(text)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func nonUTF8FormValuesAreRefusedNotMangled(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let boundary = "edge-boundary"
            var body = ByteBuffer(string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n")
            body.writeBytes([0x44, 0x65, 0xFF, 0xFE, 0x62])
            body.writeString("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.raw\"\r\n\r\n")
            body.writeBytes(ImageFixtures.raw((1 << 20) + 64))
            body.writeString("\r\n--\(boundary)--\r\n")
            let response = try await client.execute(uri: "/api/vm_images/upload", method: .post, headers: [
                .authorization: "Bearer \(seed.alphaAdmin)", .contentType: "multipart/form-data; boundary=\(boundary)"], body: body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_form")
            let listed = try await client.send(.get, "/api/vm_images?status=uploading", token: seed.alphaAdmin).json()
            #expect((listed["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func malformedParametersAreRefusedWithTheParameterNamed(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            for query in ["limit=-1", "limit=abc", "limit=0", "limit=501", "offset=-5", "offset=x", "default=maybe", "format=exe", "status=bogus"] {
                let response = try await client.send(.get, "/api/vm_images?\(query)", token: seed.alphaAdmin)
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.errorCode == "invalid_filter", "\(query)")
                let name = String(query.split(separator: "=")[0])
                #expect(response.text.contains(name), "\(query): \(response.text)")
            }
            for query in ["limit=1", "limit=500", "offset=0", "default=false", "default=1", "format=qcow2"] {
                #expect(try await client.send(.get, "/api/vm_images?\(query)", token: seed.alphaAdmin).status == .ok, "\(query)")
            }
            for size in ["99999999999999999999", "1.5e6", "1500000.0", "-1", "true", #""2097152""#] {
                let response = try await client.send(.post, "/api/vm_images/upload/sign", token: seed.alphaAdmin,
                                                     json: #"{"file_name":"d.raw","file_size":\#(size),"name":"n"}"#)
                #expect(response.status == .unprocessableContent, "\(size)")
                #expect(response.errorCode == "invalid_file_size", "\(size): \(response.text)")
            }
            let ok = try await client.send(.post, "/api/vm_images/upload/sign", token: seed.alphaAdmin,
                                           json: #"{"file_name":"d.raw","file_size":2097152,"name":"n"}"#)
            #expect(ok.status == .created, "\(ok.text)")
        }
    }
}
