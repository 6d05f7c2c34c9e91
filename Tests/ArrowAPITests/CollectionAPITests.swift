import ArrowCore
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Collections: custom, shared and public images; the ordered defaults; who may change them.
@Suite struct CollectionAPITests {
    static func ids(_ response: TestResponse) throws -> [String] {
        ((try response.json()["items"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }

    static func sources(_ response: TestResponse) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in (try response.json()["items"] as? [[String: Any]]) ?? [] {
            out[item["id"] as? String ?? ""] = item["collection"] as? String
        }
        return out
    }

    @Test(arguments: TestBackend.allCases)
    func sharingPublicImagesAndDefaults(_ backend: TestBackend) async throws {
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend) { client, seed in
            let a1 = try #require(try await client.upload(bytes, as: "a1.qcow2", name: "A one", token: seed.alphaAdmin).json()["id"] as? String)
            let a2 = try #require(try await client.upload(bytes, as: "a2.qcow2", name: "A two", token: seed.alphaAdmin).json()["id"] as? String)
            let b = seed.betaImageID
            let alpha = seed.alpha.id.rawValue

            // Sharing: only the owner's admins, never with the owner itself or an unknown organization.
            #expect(try await client.send(.post, "/api/vm_images/\(b)/shares", token: seed.betaMember, json: #"{"organization_id":"\#(alpha)"}"#).status == .forbidden)
            #expect(try await client.send(.post, "/api/vm_images/\(b)/shares", token: seed.alphaAdmin, json: #"{"organization_id":"\#(alpha)"}"#).status == .notFound)
            let toSelf = try await client.send(.post, "/api/vm_images/\(b)/shares", token: seed.betaAdmin, json: #"{"organization_id":"\#(seed.beta.id)"}"#)
            #expect(toSelf.errorCode == "share_with_owner")
            #expect(try await client.send(.post, "/api/vm_images/\(b)/shares", token: seed.betaAdmin, json: #"{"organization_id":"nope"}"#).status == .notFound)
            let shared = try await client.send(.post, "/api/vm_images/\(b)/shares", token: seed.betaAdmin, json: #"{"organization_id":"\#(alpha)"}"#)
            #expect(shared.status == .created, "\(shared.text)")
            #expect(try await client.send(.get, "/api/vm_images/\(b)/shares", token: seed.betaMember).text.contains(alpha))

            // Alpha sees it, marked shared, read-only.
            let collection = try await client.send(.get, "/api/vm_images", token: seed.alphaMember)
            #expect(try Self.sources(collection) == [a1: "custom", a2: "custom", b: "shared"])
            #expect(Set(try Self.ids(try await client.send(.get, "/api/vm_images?collection=custom", token: seed.alphaMember))) == [a1, a2])
            #expect(try Self.ids(try await client.send(.get, "/api/vm_images?collection=shared", token: seed.alphaMember)) == [b])
            #expect(try await client.send(.get, "/api/vm_images?collection=mine", token: seed.alphaMember).status == .badRequest)
            let shown = try await client.send(.get, "/api/vm_images/\(b)", token: seed.alphaMember).json()
            #expect(shown["collection"] as? String == "shared")
            #expect(try await client.send(.get, "/api/vm_images/\(b)/download", token: seed.alphaMember).status == .found)
            #expect(try await client.send(.patch, "/api/vm_images/\(b)", token: seed.alphaAdmin, json: #"{"name":"mine"}"#).status == .notFound)
            #expect(try await client.send(.delete, "/api/vm_images/\(b)", token: seed.alphaAdmin).status == .notFound)
            #expect(try await client.send(.get, "/api/vm_images/\(b)/shares", token: seed.alphaAdmin).status == .notFound)

            // Defaults: ordered, active images from the collection, set by admins.
            let path = "/api/organizations/\(alpha)/default_images"
            let set = try await client.send(.put, path, token: seed.alphaAdmin, json: #"{"image_ids":["\#(b)","\#(a1)"]}"#)
            #expect(set.status == .ok, "\(set.text)")
            #expect(try Self.ids(set) == [b, a1])
            #expect(try Self.ids(try await client.send(.get, path, token: seed.alphaMember)) == [b, a1])
            let flagged = try await client.send(.get, "/api/vm_images?default=true", token: seed.alphaMember)
            #expect(try Self.ids(flagged) == [b, a1])
            #expect(((try flagged.json()["items"] as? [[String: Any]])?.map { $0["default_position"] as? Int }) == [0, 1])
            #expect(try await client.send(.put, path, token: seed.alphaAdmin, json: #"{"image_ids":["\#(a1)","\#(a1)"]}"#).errorCode == "duplicate_default")
            #expect(try await client.send(.put, path, token: seed.alphaAdmin, json: #"{"image_ids":["nope"]}"#).errorCode == "invalid_default")
            #expect(try await client.send(.put, path, token: seed.alphaMember, json: #"{"image_ids":[]}"#).status == .forbidden)
            #expect(try await client.send(.put, path, token: seed.betaAdmin, json: #"{"image_ids":[]}"#).status == .notFound)
            let betaPath = "/api/organizations/\(seed.beta.id)/default_images"
            #expect(try await client.send(.put, betaPath, token: seed.betaAdmin, json: #"{"image_ids":["\#(a1)"]}"#).errorCode == "invalid_default")

            // Unsharing takes the image out of alpha's collection and defaults.
            #expect(try await client.send(.delete, "/api/vm_images/\(b)/shares/\(alpha)", token: seed.betaAdmin).status == .noContent)
            #expect(try await client.send(.delete, "/api/vm_images/\(b)/shares/\(alpha)", token: seed.betaAdmin).status == .notFound)
            #expect(try await client.send(.get, "/api/vm_images/\(b)", token: seed.alphaMember).status == .notFound)
            #expect(try Self.ids(try await client.send(.get, path, token: seed.alphaMember)) == [a1])

            // Public: superusers only; every organization sees it until it is private again.
            #expect(try await client.send(.put, "/api/vm_images/\(a2)/public", token: seed.alphaAdmin, json: #"{"public":true}"#).status == .forbidden)
            let published = try await client.send(.put, "/api/vm_images/\(a2)/public", token: seed.superuser, json: #"{"public":true}"#)
            #expect(try published.json()["public"] as? Bool == true)
            #expect(try Self.sources(try await client.send(.get, "/api/vm_images", token: seed.betaMember))[a2] == "public")
            #expect(try await client.send(.put, betaPath, token: seed.betaAdmin, json: #"{"image_ids":["\#(a2)"]}"#).status == .ok)
            _ = try await client.send(.put, "/api/vm_images/\(a2)/public", token: seed.superuser, json: #"{"public":false}"#)
            #expect(try Self.sources(try await client.send(.get, "/api/vm_images", token: seed.betaMember))[a2] == nil)
            #expect(try Self.ids(try await client.send(.get, betaPath, token: seed.betaMember)).isEmpty)

            // Deleting an image removes it from the defaults; clearing empties them.
            #expect(try await client.send(.delete, "/api/vm_images/\(a1)", token: seed.alphaAdmin).status == .noContent)
            #expect(try Self.ids(try await client.send(.get, path, token: seed.alphaMember)).isEmpty)
            _ = try await client.send(.put, path, token: seed.alphaAdmin, json: #"{"image_ids":["\#(a2)"]}"#)
            #expect(try await client.send(.delete, path, token: seed.alphaAdmin).status == .noContent)
            #expect(try Self.ids(try await client.send(.get, path, token: seed.alphaMember)).isEmpty)
        }
    }
}
