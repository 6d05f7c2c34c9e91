import Crypto
import Foundation
import Testing

/// The `download` target end to end: the builder publishes the artifact it stored, the image carries a stable public
/// URL, and that URL serves the artifact's exact bytes to anyone.
extension BuilderEndToEndTests {
    @Test func aDownloadBuildPublishesItsArtifactAtAStableURL() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let taskID = try world.trigger(#"{"deployment_target":"download"}"#, vmName: "dl-01")
        let (status, out, err) = try ArrowProcess.run(world.builderArguments(name: "dl"), environment: try world.builderEnvironment())
        #expect(status == 0, "\((out + err).suffix(3000))")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "succeeded", "\(task)")
        let artifact = try #require(task["artifact_image_id"] as? String)
        let image = await HTTP.send("GET", "\(world.installation.base)/api/vm_images/\(artifact)", token: world.installation.token)
        let shown = try #require(try JSONSerialization.jsonObject(with: image?.2 ?? Data()) as? [String: Any])
        let url = try #require(shown["download_url"] as? String, "\(shown)")
        // Anyone: no token.
        let fetched = try #require(await HTTP.send("GET", url, token: nil))
        #expect(fetched.0 == 200)
        #expect(SHA256.hash(data: fetched.2).map { String(format: "%02x", $0) }.joined() == shown["sha256"] as? String)
        let deploy = try ArrowProcess.run(["build", "logs", taskID, "--file", "deploy"], environment: world.env).1
        #expect(deploy.contains("published for download: \(url)"), "\(deploy)")
    }
}
