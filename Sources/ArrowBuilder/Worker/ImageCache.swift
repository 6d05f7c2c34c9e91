import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Base images by content: `<directory>/<sha256>.img`, downloaded once per builder host, resumed with HTTP ranges
/// after an interrupted download, verified by SHA-256 before use, and evicted least recently used first when the
/// cache outgrows its limit.
public struct ImageCache: Sendable {
    public let directory: String
    public let limitBytes: Int64
    let http: HTTPClient

    public init(directory: String, limitBytes: Int64, http: HTTPClient) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.limitBytes = limitBytes
        self.http = http
    }

    public struct Fetched: Sendable, Equatable {
        public var path: String
        /// Bytes downloaded now (0: it was cached).
        public var downloaded: Int64
        public var resumedFrom: Int64
    }

    /// The verified image, downloading what is missing. `log` gets progress lines.
    public func fetch(
        sha256: String, size: Int64, url: String, headers: [String: String], log: @escaping @Sendable (String) async -> Void
    ) async throws -> Fetched {
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw BuildFailure(.configInvalid, "the base image's sha256 is not a SHA-256", log: "download")
        }
        let final = "\(directory)/\(sha256.lowercased()).img"
        if Self.size(of: final) == size {
            Self.touch(final)
            await log("base image \(sha256.prefix(12)) is in the cache (\(Self.mebibytes(size)))")
            return Fetched(path: final, downloaded: 0, resumedFrom: 0)
        }
        // One download of an image at a time, across this builder's concurrent builds and other processes on the
        // cache: a second waits, then finds it cached (two writers would interleave into one partial file).
        let lock = try await Self.lockExclusively("\(directory)/\(sha256.lowercased()).lock", log: log)
        defer { close(lock) }
        if Self.size(of: final) == size {
            Self.touch(final)
            await log("base image \(sha256.prefix(12)) is in the cache (\(Self.mebibytes(size)))")
            return Fetched(path: final, downloaded: 0, resumedFrom: 0)
        }
        let partial = "\(directory)/\(sha256.lowercased()).partial"
        let resumedFrom = min(Self.size(of: partial) ?? 0, size)
        var downloaded: Int64 = 0
        var attempt = 0
        while (Self.size(of: partial) ?? 0) < size {
            attempt += 1
            do {
                downloaded += try await download(url, headers: headers, to: partial, size: size, log: log)
            } catch let failure as BuildFailure {
                throw failure
            } catch {
                guard attempt < 4 else {
                    throw BuildFailure(.downloadTimeout, "the base image download failed \(attempt) times: \(error)", log: "download")
                }
                await log("download interrupted (\(error)); resuming from \(Self.mebibytes(Self.size(of: partial) ?? 0))")
                try await Task.sleep(for: .seconds(Double(attempt)))
            }
        }
        await log("verifying SHA-256…")
        let actual = try Self.sha256(of: partial)
        guard actual == sha256.lowercased() else {
            try? FileManager.default.removeItem(atPath: partial)
            throw BuildFailure(.checksumMismatch, "the base image's SHA-256 is \(actual), expected \(sha256.lowercased())", log: "download")
        }
        guard rename(partial, final) == 0 else { throw BuildFailure(.diskSpace, "cannot move the image into the cache", log: "download") }
        evict(keeping: final)
        await log("base image verified and cached (\(Self.mebibytes(size)))")
        return Fetched(path: final, downloaded: downloaded, resumedFrom: resumedFrom)
    }

    /// An exclusive `flock` on `path`, polled so a waiting build never blocks a thread; released by closing it.
    static func lockExclusively(_ path: String, log: @escaping @Sendable (String) async -> Void) async throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BuildFailure(.diskSpace, "cannot create \(path)", log: "download") }
        var said = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if !said { await log("another build is fetching this image; waiting for it"); said = true }
            do {
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                close(fd)
                throw error
            }
        }
        return fd
    }

    /// One GET from where `partial` ends; returns the bytes it added.
    func download(_ url: String, headers: [String: String], to partial: String, size: Int64, log: @escaping @Sendable (String) async -> Void) async throws -> Int64 {
        let offset = Self.size(of: partial) ?? 0
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response = try await http.execute(request, timeout: .hours(6))
        let append: Bool
        switch response.status.code {
        case 206: append = true
        case 200: append = false
        case 403, 404, 410:
            throw BuildFailure(.imageUnavailable, "the base image's download URL answered \(response.status.code)", log: "download")
        default:
            throw DownloadError.status(Int(response.status.code))
        }
        if !FileManager.default.fileExists(atPath: partial) || !append { _ = FileManager.default.createFile(atPath: partial, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        defer { try? handle.close() }
        let start = append ? offset : 0
        if append { try handle.seekToEnd() } else { try handle.truncate(atOffset: 0) }
        await log(append ? "resuming the download at \(Self.mebibytes(start))" : "downloading \(Self.mebibytes(size))…")
        var written: Int64 = 0
        var reported = 0
        for try await chunk in response.body {
            try handle.write(contentsOf: Data(chunk.readableBytesView))
            written += Int64(chunk.readableBytes)
            guard start + written <= size else { throw BuildFailure(.checksumMismatch, "the download is longer than the image's size", log: "download") }
            let percent = Int((start + written) * 100 / max(size, 1))
            if percent >= reported + 10 {
                reported = percent - percent % 10
                await log("downloaded \(reported)% (\(Self.mebibytes(start + written)) of \(Self.mebibytes(size)))")
            }
        }
        return written
    }

    enum DownloadError: Error { case status(Int) }

    /// Deletes the least recently used images until the cache fits its limit (never `kept`).
    func evict(keeping kept: String) {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return }
        var entries = names.filter { $0.hasSuffix(".img") }.map { "\(directory)/\($0)" }.compactMap { path -> (String, Int64, Date)? in
            guard let attributes = try? manager.attributesOfItem(atPath: path) else { return nil }
            return (path, (attributes[.size] as? NSNumber)?.int64Value ?? 0, attributes[.modificationDate] as? Date ?? .distantPast)
        }
        var total = entries.reduce(0) { $0 + $1.1 }
        entries.sort { $0.2 < $1.2 }
        for (path, size, _) in entries where total > limitBytes && path != kept {
            try? manager.removeItem(atPath: path)
            total -= size
        }
    }

    static func size(of path: String) -> Int64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value
    }

    /// Marks an image used now (the eviction order).
    static func touch(_ path: String) {
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: path)
    }

    static func sha256(of path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 4 << 20), !data.isEmpty { hasher.update(data: data) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func mebibytes(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}

/// Free space where the build writes, checked before it starts.
public enum DiskSpace {
    public static func available(at path: String) -> Int64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Throws `disk_space` unless `needed` bytes are free at `path`.
    public static func require(_ needed: Int64, at path: String, for what: String) throws {
        guard let free = available(at: path) else { return }
        if free < needed {
            throw BuildFailure(.diskSpace, "\(what) needs \(ImageCache.mebibytes(needed)) at \(path) and \(ImageCache.mebibytes(free)) is free",
                               log: "download")
        }
    }
}
