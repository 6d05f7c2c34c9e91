/// The seed's storage layout, in one place. Nothing else spells out a storage path.
///
/// ```
/// images/<image id>/<file name>                      uploaded and built images
/// metadata/<image id>/<file>                         thumbnails, metadata documents
/// logs/<client>/<platform>/<task id>.log             one combined build log per task
/// build-logs/<org id>/<task id>/<name>.log           download, ansible, deploy, summary
/// ```
public enum StorageLayout {
    /// The per-phase build logs the seed names.
    public enum BuildLog: String, Sendable, CaseIterable {
        case download, ansible, deploy, summary
    }

    public static func image(id: String, fileName: String) throws -> BlobKey {
        try BlobKey("images/\(segment(id))/\(segment(fileName))")
    }

    public static func metadata(imageID: String, file: String) throws -> BlobKey {
        try BlobKey("metadata/\(segment(imageID))/\(segment(file))")
    }

    public static func combinedLog(client: String, platform: String, taskID: String) throws -> BlobKey {
        try BlobKey("logs/\(segment(client))/\(segment(platform))/\(segment(taskID)).log")
    }

    public static func buildLog(organizationID: String, taskID: String, _ log: BuildLog) throws -> BlobKey {
        try BlobKey("build-logs/\(segment(organizationID))/\(segment(taskID))/\(log.rawValue).log")
    }

    /// Prefix of every build log of one task.
    public static func buildLogPrefix(organizationID: String, taskID: String) -> String {
        "build-logs/\(segment(organizationID))/\(segment(taskID))/"
    }

    /// One path segment from user-supplied text: `/`, `\`, control characters and leading dots cannot split or
    /// escape the layout (a client called `../x` becomes `_.._x`-like text, never a path).
    static func segment(_ text: String) -> String {
        var out = String(text.unicodeScalars.map { scalar -> Character in
            scalar == "/" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F ? "_" : Character(scalar)
        })
        while out.hasPrefix(".") { out.replaceSubrange(out.startIndex...out.startIndex, with: "_") }
        if out.isEmpty { out = "_" }
        return String(out.prefix(200))
    }
}
