import ArrowApp
import ArrowCore
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Publishing an image for download: its public copy at a stable URL anyone may fetch (Range honoured), refused to
/// members and to other organizations, removed by unpublishing and by deleting the image.
@Suite struct ImageDownloadAPITests {
    @Test(arguments: TestBackend.allCases)
    func anAdminPublishesAnImageAnyoneDownloadsItAndUnpublishingRemovesIt(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let bytes = ImageFixtures.raw(1 << 20)
            let image = try #require(try await client.upload(bytes, as: "public disk.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let member = try await client.send(.put, "/api/vm_images/\(image)/download", token: seed.alphaMember)
            #expect(member.status == .forbidden)
            let otherOrganization = try await client.send(.put, "/api/vm_images/\(image)/download", token: seed.betaAdmin)
            #expect(otherOrganization.status == .notFound)
            let published = try await client.send(.put, "/api/vm_images/\(image)/download", token: seed.alphaAdmin)
            #expect(published.status == .ok, "\(published.text)")
            let url = try #require(try published.json()["download_url"] as? String)
            #expect(url.hasSuffix("/downloads/downloads/\(seed.alpha.id.rawValue)/\(image)/public_disk.raw"), "\(url)")
            let path = try #require(URLComponents(string: url)?.percentEncodedPath)
            // No token: the URL is the whole point.
            let fetched = try await client.send(.get, path)
            #expect(fetched.status == .ok && Array(fetched.body.readableBytesView) == bytes)
            var range = HTTPFields()
            range[.range] = "bytes=10-19"
            let part = try await client.send(.get, path, headers: range)
            #expect(part.status == .partialContent && Array(part.body.readableBytesView) == Array(bytes[10...19]))
            let shown = try await client.send(.get, "/api/vm_images/\(image)", token: seed.alphaAdmin)
            #expect(try shown.json()["download_url"] as? String == url)

            let unpublished = try await client.send(.delete, "/api/vm_images/\(image)/download", token: seed.alphaAdmin)
            let after = try unpublished.json()
            #expect(unpublished.status == .ok && after["download_url"] == nil)
            #expect(try await client.send(.get, path).status == .notFound)
            #expect(try await client.send(.delete, "/api/vm_images/\(image)/download", token: seed.alphaAdmin).errorCode == "not_published")

            // Deleting a published image removes its public copy too.
            #expect(try await client.send(.put, "/api/vm_images/\(image)/download", token: seed.alphaAdmin).status == .ok)
            #expect(try await client.send(.delete, "/api/vm_images/\(image)", token: seed.alphaAdmin).status == .noContent)
            #expect(try await client.send(.get, path).status == .notFound)
            // A forged path cannot leave the public area.
            #expect(try await client.send(.get, "/downloads/..%2Fobjects%2Fx").status == .notFound)
        }
    }
}
