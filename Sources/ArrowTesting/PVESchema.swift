import ArrowBuilds
import Foundation

/// The Proxmox VE API schema the fake checks requests against: the shared subset (`Resources/pve-api-subset.json`,
/// copied from ../shared/reference/data) plus `Resources/pve-api-extra.json` (the few calls the subset lacks, in
/// the same form). What PVE's JSONSchema.pm checks is checked here: unknown parameters (additionalProperties 0),
/// missing required ones, integer and boolean syntax and bounds, enums, patterns, lengths, `requires`, the string
/// formats deployment uses (`pve-vmid`, `dns-name`, `urlencoded`, `pve-tag-list`, `pve-qm-ipconfig`, …) and property
/// strings key by key (`scsi0`, `net0`, `agent`, …) with the `import-from` syntax rule of qemu-server.
struct PVESchema: Sendable {
    /// "METHOD /path/{param}" → the call's JSON (as text: parsed per use, the fake is not hot).
    let calls: [String: Data]

    static func load() throws -> PVESchema {
        var calls: [String: Data] = [:]
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")
        for file in ["pve-api-subset.json", "pve-api-extra.json"] {
            let document = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(file))) as? [String: Any] ?? [:]
            for (key, value) in document where key.contains(" /") {
                calls[key] = try JSONSerialization.data(withJSONObject: value)
            }
        }
        return PVESchema(calls: calls)
    }

    func call(_ key: String) -> [String: Any]? {
        calls[key].flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// The schema's template matching `path` for `method`, and the path's parameters.
    func match(_ method: String, _ path: String) -> (key: String, parameters: [String: String])? {
        let have = path.split(separator: "/", omittingEmptySubsequences: true).map { $0.removingPercentEncoding ?? String($0) }
        for key in calls.keys where key.hasPrefix(method + " ") {
            let want = key.dropFirst(method.count + 1).split(separator: "/")
            guard want.count == have.count else { continue }
            var parameters: [String: String] = [:], matches = true
            for (segment, value) in zip(want, have) {
                if segment.hasPrefix("{") { parameters[String(segment.dropFirst().dropLast())] = value } else if segment != value { matches = false; break }
            }
            if matches { return (key, parameters) }
        }
        return nil
    }

    /// Per-parameter errors, as PVE answers them in a 400's `errors`.
    func validate(_ key: String, _ parameters: [String: String]) -> [String: String] {
        guard let spec = call(key)?["parameters"] as? [String: Any] else { return ["(schema)": "no schema for \(key)"] }
        let properties = spec["properties"] as? [String: [String: Any]] ?? [:]
        var errors: [String: String] = [:]
        for (name, value) in parameters {
            guard let property = Self.property(name, in: properties) else {
                if (spec["additionalProperties"] as? Int ?? 1) == 0 {
                    errors[name] = "property is not defined in schema and the schema does not allow additional properties"
                }
                continue
            }
            if let problem = Self.check(value, property) { errors[name] = problem }
            if let required = property["requires"] as? String, parameters[required] == nil { errors[required] = "property is missing and it is not optional" }
        }
        for (name, property) in properties where (property["optional"] as? Int ?? 0) == 0 && !name.hasSuffix("[n]") {
            if parameters[name] == nil { errors[name] = "property is missing and it is not optional" }
        }
        return errors
    }

    /// `scsi0` is declared as `scsi[n]`.
    static func property(_ name: String, in properties: [String: [String: Any]]) -> [String: Any]? {
        if let property = properties[name] { return property }
        let stem = String(name.reversed().drop { $0.isNumber }.reversed())
        return stem != name ? properties[stem + "[n]"] : nil
    }

    static func check(_ value: String, _ property: [String: Any]) -> String? {
        switch property["type"] as? String {
        case "integer":
            guard let number = Int(value) else { return "type check ('integer') failed - got '\(value)'" }
            if let minimum = property["minimum"] as? Int, number < minimum { return "value must have a minimum value of \(minimum)" }
            if let maximum = property["maximum"] as? Int, number > maximum { return "value must have a maximum value of \(maximum)" }
        case "number":
            guard Double(value) != nil else { return "type check ('number') failed - got '\(value)'" }
        case "boolean":
            guard ["0", "1", "true", "false", "yes", "no", "on", "off"].contains(value.lowercased()) else { return "type check ('boolean') failed - got '\(value)'" }
        default:
            if let enumeration = property["enum"] as? [String], !enumeration.contains(value) { return "value '\(value)' does not have a value in the enumeration '\(enumeration.joined(separator: ", "))'" }
            if let maxLength = property["maxLength"] as? Int, value.count > maxLength { return "value may only be \(maxLength) characters long" }
            if let pattern = property["pattern"] as? String, !full(value, pattern) { return "value does not match the regex pattern" }
            if let format = property["format"] as? String, let problem = checkFormat(value, format) { return problem }
            if let format = property["format"] as? [String: [String: Any]], let problem = checkPropertyString(value, format) { return problem }
        }
        return nil
    }

    static func full(_ value: String, _ pattern: String) -> Bool {
        value.range(of: "^(?:" + pattern + ")$", options: .regularExpression) != nil
    }

    static let storageID = "[a-z][a-z0-9\\-_.]*[a-z0-9]"
    static let volumeID = "(?i:[a-z][a-z0-9\\-_.]*[a-z0-9]):.+"

    static func checkFormat(_ value: String, _ format: String) -> String? {
        let ok: Bool
        switch format {
        case "pve-node": ok = full(value, "[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?")
        case "pve-vmid": ok = full(value, "[1-9][0-9]{2,8}")
        case "pve-storage-id": ok = full(value, storageID)
        case "pve-storage-content": ok = ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"].contains(value)
        case "dns-name": ok = full(value, "([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?)(\\.[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?)*")
        case "urlencoded": ok = full(value, "[-%a-zA-Z0-9_.!~*'()]*")
        case "pve-tag-list": ok = value.split(whereSeparator: { ";, ".contains($0) }).allSatisfy { full(String($0), "(?i)[a-z0-9_][a-z0-9_\\-+.]*") }
        case "address-list": ok = value.split(whereSeparator: { " ,;".contains($0) }).allSatisfy { IPAddressText.isAddress(String($0)) }
        case "pve-bridge-id": ok = full(value, "[-_.\\w\\d]+")
        case "pve-volume-id", "pve-volume-id-or-qm-path": ok = full(value, volumeID) || value.hasPrefix("/dev/") || value == "none" || value == "cdrom"
        case "pve-volume-id-or-absolute-path": ok = full(value, volumeID) || value.hasPrefix("/")
        case "disk-size": ok = full(value, "\\d+(\\.\\d+)?[KMGT]?")
        case "pve-qm-ipconfig": return checkIPConfig(value)
        case "pve-qm-cicustom": return checkPropertyString(value, ["meta": volume, "network": volume, "user": volume, "vendor": volume])
        case "pve-qm-boot":
            return checkPropertyString(value, ["legacy": ["type": "string", "pattern": "[acdn]{1,4}", "optional": 1],
                                               "order": ["type": "string", "pattern": "[a-z]+\\d+(;[a-z]+\\d+)*", "optional": 1]])
        default: ok = true
        }
        return ok ? nil : "value does not look like a valid \(format)"
    }

    static var volume: [String: Any] { ["type": "string", "format": "pve-volume-id", "optional": 1] }

    static func checkIPConfig(_ value: String) -> String? {
        for item in value.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return "invalid format - missing key in comma-separated list property" }
            switch pair[0] {
            case "ip": guard pair[1] == "dhcp" || (IPAddressText.isCIDR(pair[1]) && !pair[1].contains(":")) else {
                return "invalid format - ip: not dhcp or an IPv4 CIDR"
            }
            case "ip6": guard ["dhcp", "auto"].contains(pair[1]) || (IPAddressText.isCIDR(pair[1]) && pair[1].contains(":")) else { return "invalid format - ip6" }
            case "gw", "gw6": guard IPAddressText.isAddress(pair[1]) else { return "invalid format - \(pair[0])" }
            default: return "invalid format - property '\(pair[0])' not allowed"
            }
        }
        return nil
    }

    /// A property string (`key=value,…`, the default key's value alone allowed) against its per-key format.
    static func checkPropertyString(_ value: String, _ format: [String: [String: Any]]) -> String? {
        var seen: [String: String] = [:]
        let defaultKey = format.first { ($0.value["default_key"] as? Int) == 1 }?.key
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { return "invalid format - empty item in comma-separated list" }
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            let (key, text): (String, String)
            if pair.count == 2 { (key, text) = (pair[0], pair[1]) } else if let defaultKey { (key, text) = (defaultKey, pair[0]) } else {
                return "invalid format - missing key in comma-separated list property"
            }
            // net0's `virtio=<MAC>` shorthand: the model as key.
            if format[key] == nil, let models = format["model"]?["enum"] as? [String], models.contains(key) {
                seen["model"] = key
                continue
            }
            guard let keyFormat = format[key] else { return "invalid format - property '\(key)' not allowed" }
            guard seen[key] == nil else { return "invalid format - duplicate key in comma-separated list property: \(key)" }
            if let problem = check(text, keyFormat) { return "invalid format - \(key): \(problem)" }
            seen[key] = text
        }
        for (key, keyFormat) in format where (keyFormat["optional"] as? Int ?? 0) == 0 && keyFormat["alias"] == nil && seen[key] == nil {
            return "invalid format - property '\(key)' is missing"
        }
        // qemu-server API2/Qemu.pm: an import is `STORAGE:0,import-from=…` and nothing else.
        if seen["import-from"] != nil, let file = seen["file"], !full(file, storageID + ":0") {
            return "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>"
        }
        return nil
    }
}
