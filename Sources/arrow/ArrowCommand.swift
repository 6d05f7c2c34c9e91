import ArgumentParser
import ArrowApp
import ArrowCore
import Foundation
import Logging
import NIOCore
import NIOPosix

@main
struct ArrowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arrow",
        abstract: "ARROW VM imaging: API server, builder and admin CLI in one binary.",
        subcommands: [Serve.self, BuilderCommand.self, Admin.self, Storage.self, Image.self, Build.self, Builders.self, BuildServerCommand.self, TemplateCommand.self, Deploy.self, DeviceRequest.self, Bench.self,
                      InternalChroot.self])

    /// Usage errors exit 2, as `arrow image inspect` documents (ArgumentParser's default is 64).
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "serve" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command that touches the server's configuration shares.
struct GlobalOptions: ParsableArguments {
    @Option(help: "YAML configuration file (also ARROW_CONFIG).")
    var config: String?

    @Option(help: "Data directory for the embedded defaults (ARROW_DATA_DIR; default ./arrow-data).")
    var dataDir: String?

    @Option(help: "postgres://… to use PostgreSQL instead of SQLite (ARROW_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (ARROW_LOG_LEVEL).")
    var logLevel: String?

    /// Flag values by configuration key; flags win over every other source.
    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["data.dir"] = dataDir
        flags["database.url"] = databaseURL
        flags["log.level"] = logLevel
        return flags
    }

    func load(extra: [String: String] = [:]) async throws -> AppConfiguration {
        let config = try await AppConfiguration.load(flags: flags.merging(extra) { $1 }, configFile: self.config)
        LoggingSystem.bootstrap { label in
            var handler = LazyMetadataLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = config.logLevel
            return handler
        }
        return config
    }
}

/// Prints a failure the way every command does: the stable code and the message, on standard error.
func report(_ error: any Error) -> ExitCode {
    if let arrow = error as? ArrowError {
        FileHandle.standardError.write(Data("error: \(arrow.publicCode): \(arrow.message)\n".utf8))
        return arrow.code == .conflict ? ExitCode(3) : ExitCode(1)
    }
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(1)
}

/// Runs `body`, turning a failure into a reported exit code.
func reporting<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw report(error)
    }
}
