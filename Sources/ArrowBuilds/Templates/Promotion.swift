import ArrowCore
import ArrowProtocol
import Foundation

/// What becomes of a template run's artifact once its task has ended: a pure decision from the task, the new
/// artifact's provenance and the current version's, tested on its own.
///
/// - The build failed or was canceled: `failed`.
/// - Its packages equal the current version's: `unchanged`, nothing promoted (EC2 Image Builder would have made a new
///   version anyway).
/// - The template requires a passed boot test and the artifact has none, or a failed one: `not_promoted`; the current
///   version and default stay, and people are alerted.
/// - Otherwise `promoted`, with the package diff against the current version.
enum Promotion {
    struct Outcome: Equatable {
        var status: TemplateRun.Status
        var message: String
        var diff: ContentsDiff?
        var alert: Bool
    }

    static func decide(task: BuildTask, requireVerification: Bool, new: BuildProvenance?, current: BuildProvenance?) -> Outcome {
        guard task.status == .succeeded, task.state.artifactImageID != nil else {
            let code = task.state.errorCode?.rawValue ?? task.status.rawValue
            return Outcome(status: .failed, message: "The build ended \(task.status.rawValue) (\(code))", diff: nil, alert: true)
        }
        let diff = current.map { ContentsDiff(from: packages($0), to: new.map(packages) ?? [:]) }
        if let diff, new != nil, diff.isEmpty {
            return Outcome(status: .unchanged, message: "Same packages as the current version: nothing promoted", diff: diff, alert: false)
        }
        if requireVerification, new?.verification?.status != .passed {
            let why = new?.verification.map { "its boot test \($0.status.rawValue)" } ?? "it was not boot-tested"
            return Outcome(status: .notPromoted, message: "Not promoted: \(why); the current version stays", diff: diff, alert: true)
        }
        let summary = diff.map { "\($0.added.count) added, \($0.removed.count) removed, \($0.changed.count) changed" } ?? "first version"
        return Outcome(status: .promoted, message: "Promoted (\(summary))", diff: diff, alert: false)
    }

    /// Name (with the architecture when it is not the usual one) → version.
    static func packages(_ provenance: BuildProvenance) -> [String: String] {
        var map: [String: String] = [:]
        for package in provenance.packages {
            let key = ["all", "amd64", ""].contains(package.architecture) ? package.name : "\(package.name):\(package.architecture)"
            map[key] = package.version
        }
        return map
    }
}
