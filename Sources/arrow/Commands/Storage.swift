import ArgumentParser
import ArrowApp
import ArrowCore
import Foundation
import Logging

extension ArrowCommand {
    struct Storage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Object storage: check the store, verify stored images, rotate the signing secret, copy objects.",
            discussion: """
                The store is B2/S3 when B2_BUCKET is set (with B2_ENDPOINT, B2_REGION, B2_KEY_ID, B2_APP_KEY), \
                otherwise the local store under the data directory.
                """,
            subcommands: [Check.self, Verify.self, RotateSecret.self, Put.self, Get.self])
    }
}

extension ArrowCommand.Storage {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the configured store is reachable and writable (round trip of a small object).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try await global.load()
            let store = try await reporting { try StorageOperations(config: config, logger: Logger(label: "arrow.storage")) }
            print("store: \(config.storageDescription)")
            do {
                for step in try await store.check() { print(step) }
                print("storage OK")
            } catch {
                print("storage FAILED")
                throw report(error)
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stream a file (or - for standard input) into an object.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The object key.") var key: String
        @Argument(help: "The file, or - for standard input.") var file: String

        func run() async throws {
            let config = try await global.load()
            let info = try await reporting {
                try await StorageOperations(config: config, logger: Logger(label: "arrow.storage")).put(key: key, file: file)
            }
            print("stored \(info.key) (\(info.size) bytes)")
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stream an object into a file (or - for standard output).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The object key.") var key: String
        @Argument(help: "The file, or - for standard output.") var file: String

        func run() async throws {
            let config = try await global.load()
            let bytes = try await reporting {
                try await StorageOperations(config: config, logger: Logger(label: "arrow.storage")).get(key: key, file: file)
            }
            if file != "-" { print("wrote \(bytes) bytes to \(file)") }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash every active image's object and compare it with the image's record (size and SHA-256).",
            discussion: "Exit status 0 when every image matches, 1 when one differs or is missing.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "One JSON object per image instead of text.") var json = false

        func run() async throws {
            let config = try await global.load()
            let findings = try await reporting {
                try await Backends.using(config, logger: Logger(label: "arrow.storage")) { backends in
                    let encoder = JSONEncoder()
                    encoder.keyEncodingStrategy = .convertToSnakeCase
                    return try await StorageVerification(backends: backends).run { finding in
                        if json {
                            let line = (try? encoder.encode(finding)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                            print(line)
                        } else {
                            print("\(finding.outcome.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(finding.imageID) \(finding.key)")
                        }
                    }
                }
            }
            let bad = findings.filter { $0.outcome != .ok }
            if !json { print("\(findings.count) image(s) checked, \(bad.count) mismatched or missing") }
            if !bad.isEmpty { throw ExitCode(1) }
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Replace the local store's URL-signing secret: every presigned URL signed before stops working.",
            discussion: """
                Running servers on the same data directory pick the new secret up within a second. With B2/S3 the \
                URLs are signed with the application key: rotate that key in the bucket's console instead.
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try await global.load()
            guard config.s3 == nil else {
                throw report(ArrowError(.invalidInput, reason: "not_local_store",
                                        "B2/S3 URLs are signed with the application key; rotate B2_APP_KEY in the bucket's console"))
            }
            try await reporting { try StorageOperations.rotateSigningSecret(config) }
            print("rotated the signing secret in \(config.dataDirectory)/storage.secret; URLs signed before no longer work")
        }
    }
}
