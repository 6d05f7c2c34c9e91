import ArgumentParser
import ArrowApp
import Foundation
import Logging

/// Benchmarks for `scripts/bench/…`; hidden from help.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (used by scripts/bench).", shouldDisplay: false, subcommands: [Queue.self])

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Claims per second and claim latency with concurrent builders on the configured database.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Queued tasks per run.") var tasks = 4000
        @Option(help: "Concurrent builders, one run each (repeatable).") var builders: [Int] = [1, 4, 16]
        @Option(help: "Triggers for the wake-up measurement (0: skip).") var wakeRounds = 20

        func run() async throws {
            var config = try await global.load()
            config.databaseConnections = max(config.databaseConnections, 16)
            let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
            let backend = config.databaseURL == nil ? "sqlite" : "postgres"
            for result in try await QueueBenchmark.run(config, tasks: tasks, claimers: builders, logger: logger) {
                print(String(format: "%@ builders=%d claimed=%d/%d duplicates=%d seconds=%.2f claims_per_s=%.0f p50_ms=%.2f p99_ms=%.2f",
                             backend, result.claimers, result.claimed, result.tasks, result.duplicates, result.seconds,
                             result.claimsPerSecond, result.p50, result.p99))
            }
            if wakeRounds > 0 {
                let wake = try await QueueBenchmark.wakeLatency(config, rounds: wakeRounds, logger: logger)
                let p50 = wake.isEmpty ? 0 : wake[wake.count / 2], worst = wake.last ?? 0
                print(String(format: "%@ wake rounds=%d woken=%d p50_ms=%.1f max_ms=%.1f", backend, wakeRounds, wake.count, p50, worst))
            }
        }
    }
}
