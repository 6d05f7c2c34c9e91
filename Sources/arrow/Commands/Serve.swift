import ArgumentParser
import ArrowApp
import Hummingbird
import Logging

extension ArrowCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the API server (graceful shutdown on SIGTERM/SIGINT).")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Interface to listen on (ARROW_HOST; default 127.0.0.1).")
        var host: String?

        @Option(help: "Port to listen on (ARROW_PORT; default 8080).")
        var port: Int?

        func run() async throws {
            var extra: [String: String] = [:]
            extra["host"] = host
            extra["port"] = port.map(String.init)
            let config = try await global.load(extra: extra)
            var logger = Logger(label: "arrow")
            logger.logLevel = config.logLevel
            let app = try await reporting { try await buildApplication(config, logger: logger) }
            logger.info("arrow serving", metadata: ["url": .string(config.baseURL)])
            try await app.runService()
        }
    }
}
