import ArgumentParser
import ArrowApp
import ArrowCore
import Foundation
import Logging

extension ArrowCommand {
    struct Storage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Object storage: check the configured store, copy objects in and out.",
            discussion: """
                The store is B2/S3 when B2_BUCKET is set (with B2_ENDPOINT, B2_REGION, B2_KEY_ID, B2_APP_KEY), \
                otherwise the local store under the data directory.
                """,
            subcommands: [Check.self, Put.self, Get.self])
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
}
