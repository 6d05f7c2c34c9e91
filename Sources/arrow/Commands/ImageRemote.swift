import ArgumentParser
import ArrowClient
import Foundation
import NIOHTTP1

/// Where the server is and who is calling: flags, else `ARROW_API` / `ARROW_TOKEN`.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server's base URL (ARROW_API), e.g. http://127.0.0.1:8080.") var api: String?
    @Option(help: "An API token (ARROW_TOKEN).") var token: String?

    func client() throws -> APIClient {
        let env = ProcessInfo.processInfo.environment
        guard let api = api ?? env["ARROW_API"], !api.isEmpty else { throw ValidationError("Say which server: --api URL or ARROW_API") }
        guard let token = token ?? env["ARROW_TOKEN"], !token.isEmpty else { throw ValidationError("Give a token: --token or ARROW_TOKEN") }
        return APIClient(baseURL: api, token: token)
    }
}

/// Runs a command against the server: an API error prints its stable code and exits 1 (3 for a conflict). A server
/// that cannot be reached, or stops answering mid-way, is `server_unreachable`, followed by `retry` (what to run once
/// it is back) when there is something to say.
func remote(retry: () -> String? = { nil }, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as APIError {
        FileHandle.standardError.write(Data("error: \(error.code): \(error.message)\n".utf8))
        if error.status == 503, let retry = retry() { FileHandle.standardError.write(Data("\(retry)\n".utf8)) }
        throw ExitCode(error.status == 409 ? 3 : 1)
    } catch let error as LocalFileError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(1)
    } catch is CancellationError {
        throw ExitCode(130)
    } catch {
        FileHandle.standardError.write(Data("error: server_unreachable: the server did not answer (\(error))\n".utf8))
        if let retry = retry() { FileHandle.standardError.write(Data("\(retry)\n".utf8)) }
        throw ExitCode(1)
    }
}

/// Prints a JSON value, keys sorted.
func printJSON(_ value: Any) throws {
    print(String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self))
}

/// One line per image: id, status, format, size, collection, name.
func printImages(_ items: [[String: Any]]) {
    for item in items {
        let size = ProgressBar.bytes(item["file_size"] as? Int64 ?? Int64(item["file_size"] as? Int ?? 0))
        let position = (item["default_position"] as? Int).map { " default#\($0 + 1)" } ?? ""
        print([item["id"] as? String ?? "?", item["status"] as? String ?? "?", item["format"] as? String ?? "?", size,
               (item["collection"] as? String ?? "custom") + position, item["name"] as? String ?? ""].joined(separator: "\t"))
    }
}

extension ArrowCommand.Image {
    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload an image: one request up to 64 MiB, the resumable multipart path above.",
            discussion: """
                Shows a progress bar with rate and ETA. The SHA-256 is computed while uploading and checked by the \
                server. An interrupted multipart upload continues with --resume (same file, unchanged). Prints the \
                image's id (or its record with --json).
                """)
        @OptionGroup var server: ServerOptions
        @Argument(help: "The image file.") var file: String
        @Option(help: "Display name.") var name: String
        @Option(help: "Description.") var description: String?
        @Option(help: "Software to install, NAME:VERSION:ROLE (repeatable).") var software: [String] = []
        @Option(help: "An ansible flag to turn on: install_vpn, harden_ssh, install_monitoring, apply_branding (repeatable).")
        var flag: [String] = []
        @Option(help: "Make this upload a new version of that image.") var previousVersion: String?
        @Option(help: "Superusers: the organization that owns the image.") var organization: String?
        @Option(help: "Upload under this file name (it declares the format; default: the file's own name).") var fileName: String?
        @Option(help: "Files above this many MiB go in parts.") var multipartThreshold: Int64 = 64
        @Flag(help: "Continue the interrupted multipart upload of this file.") var resume = false
        @Option(help: .hidden) var interruptAfterParts: Int?
        @Flag(help: "Print the image record as JSON.") var json = false

        func validate() throws {
            for entry in software where entry.split(separator: ":", omittingEmptySubsequences: false).count != 3 {
                throw ValidationError("--software takes NAME:VERSION:ROLE, not \(entry)")
            }
        }

        func run() async throws {
            let client = try server.client()
            var fields = ["name": name]
            fields["description"] = description
            fields["previous_version_id"] = previousVersion
            fields["organization_id"] = organization
            if !software.isEmpty {
                let entries = software.map { entry -> [String: String] in
                    let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    return ["name": parts[0], "version": parts[1], "ansible_role": parts[2]]
                }
                fields["software"] = String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)
            }
            if !flag.isEmpty { fields["ansible_flags"] = String(decoding: try JSONSerialization.data(withJSONObject: flag), as: UTF8.self) }
            var options = UploadOptions(path: file, fileName: fileName, fields: fields)
            options.multipartThreshold = multipartThreshold << 20
            options.resume = resume
            options.interruptAfterParts = interruptAfterParts
            let uploader = ImageUploader(client: client)
            try await remote(retry: {
                uploader.canResume(options)
                    ? "the parts already sent are kept: once the server is back, run the same command with --resume to send only the rest"
                    : "nothing was kept: once the server is back, run the same command again"
            }) {
                let image = try await uploader.upload(options)
                if json { try printJSON(image) } else {
                    FileHandle.standardError.write(Data("active: \(image["format"] as? String ?? "?"), sha256 \(image["sha256"] as? String ?? "?")\n".utf8))
                    print(image["id"] as? String ?? "")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the collection: id, status, format, size, why it is there, name.")
        @OptionGroup var server: ServerOptions
        @Option(help: "custom, shared and/or public (comma-separated).") var collection: String?
        @Flag(help: "Only the default images, in order.") var defaults = false
        @Option(help: "Name contains (case-insensitive).") var query: String?
        @Option(help: "iso, qcow2, vmdk, vhd, vhdx or raw.") var format: String?
        @Option(help: "uploading, active or deleted (default active).") var status: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var items = [URLQueryItem]()
            if let collection { items.append(URLQueryItem(name: "collection", value: collection)) }
            if defaults { items.append(URLQueryItem(name: "default", value: "true")) }
            if let query { items.append(URLQueryItem(name: "q", value: query)) }
            if let format { items.append(URLQueryItem(name: "format", value: format)) }
            if let status { items.append(URLQueryItem(name: "status", value: status)) }
            var components = URLComponents()
            components.queryItems = items.isEmpty ? nil : items
            let client = try server.client()
            try await remote {
                let list = try await client.json(.GET, "/api/vm_images" + (components.percentEncodedQuery.map { "?" + $0 } ?? "")) as? [String: Any]
                let images = list?["items"] as? [[String: Any]] ?? []
                if json { try printJSON(images) } else { printImages(images) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one image's record (JSON); for a built image, also what it contains and where it came from.")
        @OptionGroup var server: ServerOptions
        @Argument var id: String

        func run() async throws {
            let client = try server.client()
            try await remote {
                try printJSON(try await client.json(.GET, "/api/vm_images/\(try pathSegment(id))") ?? [:])
                guard let provenance = try? await client.json(.GET, "/api/vm_images/\(try pathSegment(id))/contents") as? [String: Any] else { return }
                print(ImageContentsView.render(provenance))
            }
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download an image's file.")
        @OptionGroup var server: ServerOptions
        @Argument var id: String
        @Option(help: "Where to write it.") var output: String

        func run() async throws {
            let client = try server.client()
            try await remote {
                let size = try await client.downloadImage(id: id, to: output)
                print("\(output) (\(size) bytes)")
            }
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An image and the versions it replaced, newest first.")
        @OptionGroup var server: ServerOptions
        @Argument var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try server.client()
            try await remote {
                let list = try await client.json(.GET, "/api/vm_images/\(try pathSegment(id))/versions") as? [String: Any]
                let images = list?["items"] as? [[String: Any]] ?? []
                if json { try printJSON(images) } else { printImages(images) }
            }
        }
    }

    struct SetDefault: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-default",
            abstract: "Make these images the organization's defaults, in this order (--clear: none).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Image ids, first default first.") var ids: [String] = []
        @Flag(help: "Clear the defaults.") var clear = false
        @Option(help: "The organization (default: your own).") var organization: String?

        func validate() throws {
            if clear == !ids.isEmpty { throw ValidationError("Give image ids, or --clear") }
        }

        func run() async throws {
            let client = try server.client()
            try await remote {
                var org = organization
                if org == nil { org = try await ownOrganization(client) }
                let path = "/api/organizations/\(try pathSegment(org ?? ""))/default_images"
                if clear {
                    try await client.json(.DELETE, path)
                } else {
                    let list = try await client.json(.PUT, path, body: ["image_ids": ids]) as? [String: Any]
                    printImages(list?["items"] as? [[String: Any]] ?? [])
                }
            }
        }
    }

    struct Share: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Share an image with another organization (--remove: stop sharing).")
        @OptionGroup var server: ServerOptions
        @Argument var id: String
        @Option(name: .customLong("with"), help: "The organization to share with.") var target: String?
        @Option(help: "The organization to stop sharing with.") var remove: String?

        func validate() throws {
            if (target == nil) == (remove == nil) { throw ValidationError("Give --with ORG or --remove ORG") }
        }

        func run() async throws {
            let client = try server.client()
            try await remote {
                let image = try pathSegment(id)
                if let remove {
                    try await client.json(.DELETE, "/api/vm_images/\(image)/shares/\(try pathSegment(remove))")
                } else if let target {
                    let list = try await client.json(.POST, "/api/vm_images/\(image)/shares", body: ["organization_id": target]) as? [String: Any]
                    for share in list?["items"] as? [[String: Any]] ?? [] { print(share["organization_id"] as? String ?? "") }
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete an image (its record stays, as deleted; its bytes go).")
        @OptionGroup var server: ServerOptions
        @Argument var id: String

        func run() async throws {
            let client = try server.client()
            try await remote { try await client.json(.DELETE, "/api/vm_images/\(try pathSegment(id))") }
        }
    }
}

/// The caller's organization, from `/api/me`.
func ownOrganization(_ client: APIClient) async throws -> String {
    let me = try await client.json(.GET, "/api/me") as? [String: Any]
    guard let org = (me?["organization"] as? [String: Any])?["id"] as? String ?? me?["organization_id"] as? String else {
        throw ValidationError("You belong to no organization: say which with --organization")
    }
    return org
}

/// An id as one URL path segment: nothing that could change the path.
func pathSegment(_ text: String) throws -> String {
    guard !text.isEmpty, let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_"))) else {
        throw ValidationError("Not a valid id: \(text)")
    }
    return encoded
}
