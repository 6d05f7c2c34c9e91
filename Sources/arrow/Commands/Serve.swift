import ArgumentParser
import ArrowApp
import Hummingbird
import ArrowBuilder
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

        @Flag(help: "Also run one builder in this process (the embedded default; needs root for image work).")
        var withBuilder = false

        @OptionGroup var builder: BuilderOptions

        func run() async throws {
            var extra: [String: String] = [:]
            extra["host"] = host
            extra["port"] = port.map(String.init)
            let config = try await global.load(extra: extra)
            var logger = Logger(label: "arrow")
            logger.logLevel = config.logLevel
            let settings = withBuilder
                ? try builder.settings(defaultWork: config.dataDirectory + "/builder-work", defaultCache: config.dataDirectory + "/builder-cache")
                : nil
            let app = try await reporting { try await buildApplication(config, logger: logger, builder: settings) }
            logger.info("arrow serving", metadata: ["url": .string(config.baseURL)])
            try await app.runService()
        }
    }
}
