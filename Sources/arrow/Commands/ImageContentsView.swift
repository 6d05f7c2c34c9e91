import Foundation

/// A built image's provenance and package changes, as `arrow image show` and the demo print them.
enum ImageContentsView {
    static func render(_ provenance: [String: Any]) -> String {
        func names(_ key: String) -> [String] {
            (provenance[key] as? [[String: Any]] ?? []).map { "\($0["name"] as? String ?? "?") \($0["version"] as? String ?? "")" }
        }
        let changed = (provenance["changed"] as? [[String: Any]] ?? []).map {
            "\($0["name"] as? String ?? "?") \($0["from"] as? String ?? "") → \($0["to"] as? String ?? "")"
        }
        let phases = (provenance["phase_seconds"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.1f s", ($0.value as? NSNumber)?.doubleValue ?? 0))" }
        var lines = [
            "built by task \(provenance["task_id"] as? String ?? "?") with builder \(provenance["builder_version"] as? String ?? "?")",
            "from image \(provenance["base_image_id"] as? String ?? "?") (sha256 \(provenance["base_sha256"] as? String ?? "?"))",
            "configuration \(provenance["configuration_hash"] as? String ?? "?")",
            "phases: \(phases.joined(separator: ", "))",
            "packages: \((provenance["packages"] as? [Any])?.count ?? 0); added \(names("added").count), removed \(names("removed").count), changed \(changed.count)",
        ]
        lines += names("added").map { "  + \($0)" } + names("removed").map { "  - \($0)" } + changed.map { "  ~ \($0)" }
        return lines.joined(separator: "\n")
    }
}
