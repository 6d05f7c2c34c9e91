import ArrowApp
import ArrowCore
import ArrowDatabase
import ArrowRegistry
import ArrowTesting
import Crypto
import Foundation
import Logging
import Synchronization
import Testing

/// Registry rules below the HTTP layer: the size limit stops reading at once, and interrupted uploads are swept.
@Suite struct ImageRegistryTests {
    /// An endless stream of 1 MiB chunks that counts how many were pulled.
    final class Counter: Sendable {
        let value = Mutex(0)
    }

    struct CountingChunks: AsyncSequence, Sendable {
        let pulled: Counter
        struct AsyncIterator: AsyncIteratorProtocol {
            let counter: CountingChunks
            mutating func next() async throws -> [UInt8]? {
                counter.pulled.value.withLock { $0 += 1 }
                return [UInt8](repeating: 0, count: 1 << 20)
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(counter: self) }
    }

    static func withRegistry(_ backend: TestBackend, clock: any Clock = SystemClock(),
                             _ body: (ImageRegistry, Backends, Principal) async throws -> Void) async throws {
        let config = try await backend.freshConfiguration()
        try await Backends.using(config, logger: Logger(label: "test")) { backends in
            let (_, _, token) = try await AdminOperations(backends: backends).initialize(
                email: "root@arrow.test", password: "rootpassword", organizationName: "alpha")
            let principal = try await backends.identity.authenticate(secret: token.secret)
            var limits = UploadLimits()
            limits.single = (1 << 20)...(3 << 20)
            let registry = ImageRegistry(store: backends.store, blobs: backends.blobs, clock: clock, limits: limits, logger: Logger(label: "test"))
            try await body(registry, backends, principal)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theSizeLimitStopsReadingAtOnce(_ backend: TestBackend) async throws {
        try await Self.withRegistry(backend) { registry, backends, principal in
            let chunks = CountingChunks(pulled: Counter())
            let ticket = try await registry.beginUpload(principal: principal, organization: nil)
            await #expect {
                try await registry.upload(ticket, fileName: "endless.raw", fileType: nil, body: BlobBody(chunks, transform: { $0 }),
                                          fields: { ImageUploadFields(name: "x") })
            } throws: { error in
                (error as? ArrowError)?.publicCode == "file_too_large"
            }
            // 3 MiB allowed: the fourth chunk passes the limit and nothing more is read.
            #expect(chunks.pulled.value.withLock { $0 } == 4)
            #expect(try await backends.blobs.list(prefix: "images/").isEmpty)
            #expect(try await backends.store.repositories.images.list(organization: nil, filter: ImageFilter(status: nil), scope: .all).isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func interruptedUploadsAreSwept(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await Self.withRegistry(backend, clock: clock) { registry, backends, principal in
            // What a crash mid-upload leaves: a row still uploading and a stored object.
            let id = ImageID.generate()
            let key = try StorageLayout.image(id: id.rawValue, fileName: "disk.raw")
            _ = try await backends.blobs.put(key, body: BlobBody(bytes: [1, 2, 3]), length: 3)
            try await backends.store.repositories.images.create(Image(
                id: id, organizationID: try #require(principal.user.organizationID), name: "disk.raw", description: nil,
                fileName: "disk.raw", fileSize: 0, fileType: "application/octet-stream", storageKey: key.rawValue, format: "unknown",
                virtualSize: 0, sha256: "", status: .uploading, software: [], ansibleFlags: try AnsibleFlags(), version: 1,
                previousVersionID: nil, uploadedBy: principal.user.id, createdAt: clock.now(), updatedAt: clock.now()))
            #expect(try await registry.sweepAbandonedUploads(maxAge: 3600) == 0, "a fresh upload may still be running")
            clock.advance(by: 3601)
            #expect(try await registry.sweepAbandonedUploads(maxAge: 3600) == 1)
            #expect(try await backends.blobs.head(key) == nil)
            #expect(try await backends.store.repositories.images.find(id: id, scope: .all) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func abandonedSessionsExpireAndLeaveNothing(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await Self.withRegistry(backend, clock: clock) { registry, backends, principal in
            let bytes = testBytes(20 << 20)
            let abandoned = try await registry.startMultipart(
                principal: principal, fileName: "a.raw", fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "a"))
            try await uploadParts(abandoned, bytes: bytes, blobs: backends.blobs, only: [1])
            // What a crash in the middle of completion leaves: a session `completing` and an assembled object.
            let interrupted = try await registry.startMultipart(
                principal: principal, fileName: "b.raw", fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "b"))
            try await uploadParts(interrupted, bytes: bytes, blobs: backends.blobs)
            let key = try BlobKey(interrupted.session.storageKey)
            _ = try await backends.blobs.completeMultipartUpload(
                MultipartUpload(key: key, uploadID: interrupted.session.storeUploadID),
                parts: try await backends.blobs.listParts(MultipartUpload(key: key, uploadID: interrupted.session.storeUploadID)))
            #expect(try await backends.store.repositories.uploadSessions.transition(
                id: interrupted.session.id, from: [.open], to: .completing, at: clock.now()))

            // And a crash after activation, before the session was closed: the image must survive the expiry.
            let bytes9 = testBytes(9 << 20)
            let activated = try await registry.startMultipart(
                principal: principal, fileName: "c.raw", fileType: nil, fileSize: Int64(bytes9.count), fields: ImageUploadFields(name: "c"))
            try await uploadParts(activated, bytes: bytes9, blobs: backends.blobs)
            let image = try await registry.completeMultipart(principal: principal, id: activated.session.id.rawValue, sha256: nil)
            #expect(try await backends.store.repositories.uploadSessions.transition(
                id: activated.session.id, from: [.completed], to: .completing, at: clock.now()))

            #expect(try await registry.expireSessions() == 0, "fresh sessions stay open")
            clock.advance(by: ImageRegistry.sessionLifetime + 1)
            #expect(try await registry.expireSessions() == 3)
            #expect(try await backends.blobs.read(try BlobKey(image.storageKey)) == bytes9, "an activated image keeps its bytes")
            #expect(try await registry.multipartStatus(principal: principal, id: activated.session.id.rawValue).session.status == .completed)
            #expect(try await backends.blobs.head(key) == nil)
            await #expect(throws: StorageError.self) {
                try await backends.blobs.listParts(MultipartUpload(key: try BlobKey(abandoned.session.storageKey), uploadID: abandoned.session.storeUploadID))
            }
            await #expect { try await registry.signParts(principal: principal, id: abandoned.session.id.rawValue, parts: nil) } throws: {
                (error: any Error) in (error as? ArrowError)?.publicCode == "upload_not_open"
            }
            #expect(try await registry.multipartStatus(principal: principal, id: abandoned.session.id.rawValue).session.status == .expired)
            #expect(try await registry.expireSessions() == 0)
        }
    }

    /// Another server's janitor sweeping while this one checks an assembled upload leaves it alone: the completing
    /// process owns the row (it once had no owner, and a sweep mid-check removed the object under the completion).
    @Test(arguments: TestBackend.allCases)
    func aJanitorSweepingDuringACompletionLeavesItAlone(_ backend: TestBackend) async throws {
        try await Self.withRegistry(backend) { registry, backends, principal in
            let janitor = ImageRegistry(store: backends.store, blobs: backends.blobs, logger: Logger(label: "janitor"))
            let swept = Mutex(0)
            let store = FlakyStore(backends.blobs, beforeRead: {
                let removed = (try? await janitor.sweepOrphanedUploads(live: ["completing"])) ?? 0
                swept.withLock { $0 += removed }
            })
            let completing = ImageRegistry(store: backends.store, blobs: store, instanceID: "completing", logger: Logger(label: "test"))
            let bytes = testBytes(9 << 20)
            let signed = try await completing.startMultipart(
                principal: principal, fileName: "swept.raw", fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "swept"))
            try await uploadParts(signed, bytes: bytes, blobs: backends.blobs)
            let image = try await completing.completeMultipart(principal: principal, id: signed.session.id.rawValue, sha256: nil)
            #expect(image.status == .active && swept.withLock { $0 } == 0)
            #expect(try await backends.blobs.read(try BlobKey(image.storageKey)) == bytes)
        }
    }

    /// A store too busy to assemble leaves the session open and the parts in place: completing again works.
    @Test(arguments: TestBackend.allCases)
    func aBusyStoreAtCompletionLetsTheClientCompleteAgain(_ backend: TestBackend) async throws {
        try await Self.withRegistry(backend) { registry, backends, principal in
            let busy = ImageRegistry(store: backends.store, blobs: FlakyStore(backends.blobs, busyCompletions: 1), logger: Logger(label: "test"))
            let bytes = testBytes(9 << 20)
            let signed = try await busy.startMultipart(
                principal: principal, fileName: "disk.raw", fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "x"))
            try await uploadParts(signed, bytes: bytes, blobs: backends.blobs)
            let id = signed.session.id.rawValue
            await #expect { try await busy.completeMultipart(principal: principal, id: id, sha256: nil) } throws: { error in
                (error as? ArrowError)?.publicCode == "storage_unavailable"
            }
            #expect(try await busy.multipartStatus(principal: principal, id: id).session.status == .open)
            #expect(try await backends.store.repositories.images.find(id: signed.session.imageID, scope: .all) == nil)
            let image = try await busy.completeMultipart(principal: principal, id: id, sha256: nil)
            #expect(image.status == .active)
            #expect(try await backends.blobs.read(try BlobKey(image.storageKey)) == bytes)
        }
    }

    /// Assembled, then unreadable: the object is kept, the session waits as `assembled` with nothing to upload, and
    /// completing again checks and activates it. Read 1 is the first completion's read-back for the hash; read 3 is
    /// the second completion's first ranged read for the inspection, after its hash (read 2) went through.
    @Test(arguments: TestBackend.allCases)
    func anObjectUnreadableAfterAssemblyIsKeptAndCompletedAgain(_ backend: TestBackend) async throws {
        try await Self.withRegistry(backend) { _, backends, principal in
            let flaky = ImageRegistry(store: backends.store, blobs: FlakyStore(backends.blobs, failingReads: [1, 3]), logger: Logger(label: "test"))
            let bytes = testBytes(9 << 20)
            let signed = try await flaky.startMultipart(
                principal: principal, fileName: "disk.raw", fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "x"))
            try await uploadParts(signed, bytes: bytes, blobs: backends.blobs)
            let id = signed.session.id.rawValue
            let key = try BlobKey(signed.session.storageKey)
            for attempt in 1...2 {
                await #expect { try await flaky.completeMultipart(principal: principal, id: id, sha256: nil) } throws: { error in
                    (error as? ArrowError)?.publicCode == "storage_unavailable"
                }
                #expect(try await flaky.multipartStatus(principal: principal, id: id).session.status == .assembled, "attempt \(attempt)")
                #expect(try await backends.store.repositories.images.find(id: signed.session.imageID, scope: .all) == nil)
                #expect(try await backends.blobs.head(key)?.size == Int64(bytes.count), "the assembled object is kept")
                let resumed = try await flaky.signParts(principal: principal, id: id, parts: nil)
                #expect(resumed.session.status == .assembled && resumed.signedParts.isEmpty)
            }
            let image = try await flaky.completeMultipart(principal: principal, id: id, sha256: nil)
            #expect(image.status == .active)
            #expect(image.sha256 == Hex.string(SHA256.hash(data: bytes)))
            #expect(try await backends.blobs.read(key) == bytes)
            #expect(try await flaky.multipartStatus(principal: principal, id: id).session.status == .completed)
        }
    }

    /// An assembled session nobody completes is removed, object and all, by its owner or by the expiry.
    @Test(arguments: TestBackend.allCases)
    func assembledSessionsAreAbortedOrExpiredWithTheirObject(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await Self.withRegistry(backend, clock: clock) { _, backends, principal in
            let flaky = ImageRegistry(store: backends.store, blobs: FlakyStore(backends.blobs, failingReads: [1, 2]), clock: clock,
                                      logger: Logger(label: "test"))
            var keys: [BlobKey] = []
            var ids: [String] = []
            for name in ["aborted.raw", "expired.raw"] {
                let bytes = testBytes(9 << 20)
                let signed = try await flaky.startMultipart(
                    principal: principal, fileName: name, fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: name))
                try await uploadParts(signed, bytes: bytes, blobs: backends.blobs)
                _ = try? await flaky.completeMultipart(principal: principal, id: signed.session.id.rawValue, sha256: nil)
                #expect(try await flaky.multipartStatus(principal: principal, id: signed.session.id.rawValue).session.status == .assembled)
                keys.append(try BlobKey(signed.session.storageKey))
                ids.append(signed.session.id.rawValue)
            }
            try await flaky.abortMultipart(principal: principal, id: ids[0])
            #expect(try await flaky.multipartStatus(principal: principal, id: ids[0]).session.status == .aborted)
            #expect(try await backends.blobs.head(keys[0]) == nil)
            #expect(try await backends.blobs.head(keys[1]) != nil)
            clock.advance(by: ImageRegistry.sessionLifetime + 1)
            #expect(try await flaky.expireSessions() == 1)
            #expect(try await flaky.multipartStatus(principal: principal, id: ids[1]).session.status == .expired)
            #expect(try await backends.blobs.head(keys[1]) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func ofTwoRacingCompletionsExactlyOneWins(_ backend: TestBackend) async throws {
        try await Self.withRegistry(backend) { registry, backends, principal in
            let bytes = testBytes(9 << 20)
            let signed = try await registry.startMultipart(
                principal: principal, fileName: "disk.raw", fileType: nil, fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "x"))
            try await uploadParts(signed, bytes: bytes, blobs: backends.blobs)
            let id = signed.session.id.rawValue
            async let first = await Result { try await registry.completeMultipart(principal: principal, id: id, sha256: nil) }
            async let second = await Result { try await registry.completeMultipart(principal: principal, id: id, sha256: nil) }
            let results = await [first, second]
            let images = results.compactMap { try? $0.get() }
            #expect(images.count == 1)
            #expect(images.first?.status == .active)
            let losers = results.compactMap { result -> String? in
                if case .failure(let error) = result { return (error as? ArrowError)?.publicCode }
                return nil
            }
            #expect(losers == ["upload_not_open"])
            #expect(try await backends.blobs.read(try BlobKey(signed.session.storageKey)) == bytes)
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
