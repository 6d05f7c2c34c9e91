import ArrowApp
import ArrowCore
import ArrowDatabase
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// An image a queued or running build, or an open device request, still needs cannot be deleted; once deleted,
/// nothing new can be built from it.
@Suite struct ImageInUseAPITests {
    @Test(arguments: TestBackend.allCases)
    func deleteIsRefusedWhileBuildsOrDeviceRequestsNeedTheImage(_ backend: TestBackend) async throws {
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend) { client, seed in
            let a = try #require(try await client.upload(bytes, as: "a.qcow2", name: "A", token: seed.alphaAdmin).json()["id"] as? String)
            let b = seed.betaImageID
            let alpha = seed.alpha.id.rawValue
            _ = try await client.send(.post, "/api/vm_images/\(b)/shares", token: seed.betaAdmin, json: #"{"organization_id":"\#(alpha)"}"#)
            try await Harness.withBackends(seed) { backends in
                let store = backends.store
                let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))  // the database keeps milliseconds
                let task = BuildTask(organizationID: seed.alpha.id, imageID: ImageID(a), createdBy: nil, createdAt: now)
                try await store.enqueue(task)

                // Queued, then running: 409 with a stable code, and the image stays listed and downloadable.
                for status in [BuildTaskStatus.queued, .running] {
                    #expect(try await store.repositories.buildTasks.setStatus(id: task.id, status, at: now, scope: .all))
                    let refused = try await client.send(.delete, "/api/vm_images/\(a)", token: seed.alphaAdmin)
                    #expect(refused.status == .conflict)
                    #expect(refused.errorCode == "image_in_use")
                    #expect(refused.text.contains("1 queued or running build task"))
                    #expect(try await client.send(.get, "/api/vm_images/\(a)", token: seed.alphaMember).json()["status"] as? String == "active")
                }

                // Alpha's open device request for beta's shared image blocks beta's delete, without naming alpha's request.
                let request = DeviceRequest(
                    id: DeviceRequestID("dr-alpha-1"), organizationID: seed.alpha.id, deviceType: "pvm", client: "acme",
                    imageIDs: [ImageID(b), ImageID(a)], createdAt: now)
                try await store.open(request)
                #expect(try await store.repositories.deviceRequests.find(id: request.id, scope: .organization(seed.alpha.id)) == request)
                #expect(try await store.repositories.deviceRequests.find(id: request.id, scope: .organization(seed.beta.id)) == nil)
                let blocked = try await client.send(.delete, "/api/vm_images/\(b)", token: seed.betaAdmin)
                #expect(blocked.errorCode == "image_in_use")
                #expect(!blocked.text.contains("dr-alpha-1") && !blocked.text.contains(alpha))
                let both = try await client.send(.delete, "/api/vm_images/\(a)", token: seed.alphaAdmin)
                #expect(both.text.contains("1 queued or running build task(s) and 1 open device request(s)"), "\(both.text)")

                // Finished work no longer holds the images.
                #expect(try await store.repositories.deviceRequests.setStatus(id: request.id, .imaging, at: now, scope: .all))
                #expect(try await client.send(.delete, "/api/vm_images/\(b)", token: seed.betaAdmin).status == .conflict)
                #expect(try await store.repositories.deviceRequests.setStatus(id: request.id, .ready, at: now, scope: .all))
                #expect(try await client.send(.delete, "/api/vm_images/\(b)", token: seed.betaAdmin).status == .noContent)
                #expect(try await store.repositories.buildTasks.setStatus(id: task.id, .succeeded, at: now, scope: .organization(seed.beta.id)) == false)
                #expect(try await store.repositories.buildTasks.setStatus(id: task.id, .failed, at: now, scope: .organization(seed.alpha.id)))
                #expect(try await client.send(.delete, "/api/vm_images/\(a)", token: seed.alphaAdmin).status == .noContent)
                #expect(try await store.repositories.buildTasks.find(id: task.id, scope: .all)?.status == .failed)

                // A deleted or unknown image takes no new work.
                let late = await #expect(throws: ArrowError.self) {
                    try await store.enqueue(BuildTask(organizationID: seed.alpha.id, imageID: ImageID(a), createdBy: nil, createdAt: now))
                }
                #expect(late?.publicCode == "image_not_active")
                let unknown = await #expect(throws: ArrowError.self) {
                    try await store.open(DeviceRequest(
                        id: DeviceRequestID("dr-2"), organizationID: seed.alpha.id, deviceType: "vm", client: "acme",
                        imageIDs: [ImageID("nope")], createdAt: now))
                }
                #expect(unknown?.code == .notFound)
                #expect(try await store.repositories.deviceRequests.find(id: DeviceRequestID("dr-2"), scope: .all) == nil)
            }
        }
    }

    /// Deletes racing new builds: every image ends either deleted with no build, or active with its build and the
    /// delete refused. Never a build queued for a deleted image.
    @Test(arguments: TestBackend.allCases)
    func deleteAndEnqueueRacingNeverLeaveABuildOnADeletedImage(_ backend: TestBackend) async throws {
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend) { client, seed in
            var ids: [String] = []
            for n in 0..<8 {
                ids.append(try #require(try await client.upload(bytes, as: "r\(n).qcow2", name: "R\(n)", token: seed.alphaAdmin).json()["id"] as? String))
            }
            try await Harness.withBackends(seed) { backends in
                let store = backends.store
                let outcomes = try await withThrowingTaskGroup(of: (String, Int, Bool).self) { group in
                    for id in ids {
                        group.addTask {
                            async let deleted = client.send(.delete, "/api/vm_images/\(id)", token: seed.alphaAdmin).status.code
                            async let queued: Bool = {
                                do {
                                    try await store.enqueue(BuildTask(organizationID: seed.alpha.id, imageID: ImageID(id), createdBy: nil, createdAt: Date()))
                                    return true
                                } catch let error as ArrowError where error.publicCode == "image_not_active" {
                                    return false
                                }
                            }()
                            return (id, try await deleted, try await queued)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                for (id, deleteStatus, queued) in outcomes {
                    let status = try await store.repositories.images.find(id: ImageID(id), scope: .all)?.status
                    if queued {
                        #expect(deleteStatus == 409 && status == .active, "image \(id): delete \(deleteStatus), status \(String(describing: status))")
                    } else {
                        #expect(deleteStatus == 204 && status == .deleted, "image \(id): delete \(deleteStatus), status \(String(describing: status))")
                    }
                }
            }
        }
    }
}
