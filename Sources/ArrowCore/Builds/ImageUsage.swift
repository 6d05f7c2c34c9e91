import Foundation

/// What still needs an image, across every organization: builds queued or running from it, and device requests
/// still open that name it. An image in use cannot be deleted.
public struct ImageUsage: Sendable, Equatable {
    public var openBuildTasks: Int
    public var openDeviceRequests: Int

    public init(openBuildTasks: Int, openDeviceRequests: Int) {
        self.openBuildTasks = openBuildTasks
        self.openDeviceRequests = openDeviceRequests
    }

    public var isEmpty: Bool { openBuildTasks == 0 && openDeviceRequests == 0 }
}

/// The queries that keep deletion and new work on an image from racing each other.
public protocol ImageUsageRepository: Sendable {
    /// Share-locks the image's row until the transaction ends, so a concurrent delete waits for this transaction
    /// (and a delete that committed first is seen), and returns its status; nil when there is no such image.
    func lockForUse(image: ImageID) async throws -> ImageStatus?
    func usage(image: ImageID) async throws -> ImageUsage
}

extension DataStore {
    /// Queues a build task. The image must be active; a delete of it either committed before (and the task is
    /// refused) or waits and then sees the task.
    public func enqueue(_ task: BuildTask) async throws {
        try await transaction { repos in
            try await Self.requireUsable(task.imageID, repos)
            try await repos.buildTasks.create(task)
        }
    }

    /// Records a device request and the images it names, under the same rule as ``enqueue(_:)``.
    public func open(_ request: DeviceRequest) async throws {
        guard !request.imageIDs.isEmpty else { throw ArrowError(.unprocessable, reason: "no_images", "A device request names at least one image") }
        guard Set(request.imageIDs).count == request.imageIDs.count else {
            throw ArrowError(.unprocessable, reason: "duplicate_image", "A device request names each image once")
        }
        try await transaction { repos in
            for image in request.imageIDs { try await Self.requireUsable(image, repos) }
            try await repos.deviceRequests.create(request)
        }
    }

    private static func requireUsable(_ image: ImageID, _ repos: Repositories) async throws {
        guard let status = try await repos.imageUsage.lockForUse(image: image) else { throw ArrowError.notFound("Image") }
        guard status == .active else {
            throw ArrowError(.conflict, reason: "image_not_active", "Image \(image) is \(status.rawValue), not active")
        }
    }
}
