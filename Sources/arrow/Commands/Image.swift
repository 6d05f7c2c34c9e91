import ArgumentParser
import ArrowApp
import ArrowFormats
import Foundation

extension ArrowCommand {
    struct Image: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "VM images: inspect local files; upload, list and manage images on a server.",
            subcommands: [Inspect.self, Upload.self, List.self, Show.self, Download.self, ImageVerify.self, Versions.self, SetDefault.self, Share.self, Remove.self])
    }
}

extension ArrowCommand.Image {
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Judge a local image file exactly as an upload of it (same name) would be judged.",
            discussion: """
                Reads only the regions the format inspectors need. Exit status: 0 all accepted, 1 any rejected, \
                2 usage or I/O error. --json prints {format, virtual_size, accepted, violations: [{check, message}]}.
                """)
        @Argument(help: "The image file(s); with several, one verdict per file (JSON: one object per line).")
        var files: [String]
        @Flag(help: "Print the verdict as JSON.") var json = false
        @Option(help: "Judge the file as if it were uploaded under this name (default: its own name).") var name: String?

        func validate() throws {
            if name != nil && files.count > 1 { throw ValidationError("--name applies to a single file") }
        }

        func run() async throws {
            var worst: Int32 = 0
            for file in files {
                do {
                    let report = try await LocalFileBytes.inspect(path: file, fileName: name)
                    if json {
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.sortedKeys]
                        print(String(decoding: try encoder.encode(report), as: UTF8.self))
                    } else {
                        print(Self.describe(report, file: name ?? file))
                    }
                    if !report.accepted { worst = max(worst, 1) }
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    worst = 2
                }
            }
            if worst != 0 { throw ExitCode(worst) }
        }

        static func describe(_ report: InspectionReport, file: String) -> String {
            var lines = ["\(file): \(report.format.rawValue), virtual size \(report.virtualSize) bytes: "
                + (report.accepted ? "accepted" : "REJECTED")]
            for violation in report.violations { lines.append("  \(violation.check): \(violation.message)") }
            return lines.joined(separator: "\n")
        }
    }
}
