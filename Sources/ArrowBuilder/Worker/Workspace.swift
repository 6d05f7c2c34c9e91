import Foundation

/// One task's files on the builder: `<work>/<task>/` holds the raw disk, its mount point and the artifact. The
/// customized disk stays after a failure, marked with its configuration hash, so a retried attempt on this builder
/// resumes after customization instead of starting over.
struct Workspace {
    let root: String
    let cache: String
    /// Which of the builder's concurrent build slots this is (0 for the first).
    var slot = 0

    var raw: String { root + "/disk.raw" }
    var mountPoint: String { root + "/mnt" }
    var artifact: String { root + "/artifact.qcow2" }
    /// The base image's package list, taken before customization changed anything.
    var basePackages: String { root + "/base-packages.json" }
    /// What each customization step added (``SizeLedger``).
    var sizes: String { root + "/sizes.json" }
    var imageCache: String { cache + "/images" }
    /// apt's downloaded packages, kept between builds. Each concurrent slot has its own: apt locks its archive and
    /// list directories, so two builds using one at once would have one fail on the lock.
    var aptArchives: String { cache + (slot == 0 ? "/apt/archives" : "/apt/archives-\(slot)") }
    /// apt's package lists for one distribution release, per slot for the same reason.
    func aptLists(_ release: String) -> String { cache + (slot == 0 ? "/apt/lists/" : "/apt/lists-\(slot)/") + release }

    func prepare() throws {
        for directory in [root, mountPoint, imageCache, aptArchives + "/partial"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    func marker(_ hash: String) -> String { root + "/customized." + hash }

    func hasCustomizedDisk(for hash: String) -> Bool {
        FileManager.default.fileExists(atPath: marker(hash)) && FileManager.default.fileExists(atPath: raw)
    }

    func markCustomized(_ hash: String) {
        _ = FileManager.default.createFile(atPath: marker(hash), contents: Data())
    }

    func clearMarkers() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix("customized.") {
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    /// Removes the task's files (after success; a failed task's stay for its retry).
    func clean() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
