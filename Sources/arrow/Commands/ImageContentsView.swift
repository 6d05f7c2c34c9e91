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
        ]
        if let template = provenance["template"] as? [String: Any] {
            lines.append("template \(template["name"] as? String ?? "?") revision \(template["revision"] as? Int ?? 0) (\(template["trigger"] as? String ?? "?"), run \(template["run_id"] as? String ?? "?"))")
        }
        lines += [
            "phases: \(phases.joined(separator: ", "))",
            "packages: \((provenance["packages"] as? [Any])?.count ?? 0); added \(names("added").count), removed \(names("removed").count), changed \(changed.count)",
        ]
        lines += names("added").map { "  + \($0)" } + names("removed").map { "  - \($0)" } + changed.map { "  ~ \($0)" }
        if let size = provenance["size"] as? [String: Any] { lines.append(sizeText(size)) }
        if let verification = provenance["verification"] as? [String: Any] { lines.append(verificationText(verification)) }
        return lines.joined(separator: "\n")
    }

    /// The artifact's size, then what each step added, largest first.
    static func sizeText(_ size: [String: Any]) -> String {
        func mebibytes(_ value: Any?) -> String { String(format: "%.1f MiB", Double((value as? NSNumber)?.int64Value ?? 0) / 1_048_576) }
        var head = "size: artifact \(mebibytes(size["artifact_bytes"]))"
        if let base = size["base_used_bytes"], let used = size["used_bytes"] { head += "; file system \(mebibytes(base)) → \(mebibytes(used))" }
        let items = (size["items"] as? [[String: Any]] ?? []).sorted {
            (($0["bytes"] as? NSNumber)?.int64Value ?? 0) > (($1["bytes"] as? NSNumber)?.int64Value ?? 0)
        }
        return ([head] + items.map { "  \(mebibytes($0["bytes"]))\t\($0["kind"] as? String ?? "?")\t\($0["name"] as? String ?? "?")" }).joined(separator: "\n")
    }

    /// The boot test's result: a line, then one per check.
    static func verificationText(_ verification: [String: Any]) -> String {
        let checks = verification["checks"] as? [[String: Any]] ?? []
        let seconds = (verification["boot_seconds"] as? NSNumber)?.doubleValue ?? 0
        var lines = ["verification: \(verification["status"] as? String ?? "?") (\(verification["accelerator"] as? String ?? "?"), "
            + "booted in \(String(format: "%.1f", seconds)) s, \(verification["verified_at"] as? String ?? ""))"]
        for check in checks {
            let passed = check["passed"] as? Bool == true
            lines.append("  \(passed ? "✓" : "✗") \(check["name"] as? String ?? "?")" + (passed ? "" : ": " + (check["output"] as? String ?? "").suffix(300)))
        }
        return lines.joined(separator: "\n")
    }
}
