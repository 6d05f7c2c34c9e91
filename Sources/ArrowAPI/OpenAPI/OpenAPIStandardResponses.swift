import Foundation

/// Adds to every operation of the hand-written document the error statuses every operation of its kind can answer,
/// so no response goes undescribed (Schemathesis checks this against a live server): 400 for any malformed request,
/// 401 for a bad token (checked wherever one is sent), 403 where a token is needed, 404 where the path names something, 413, 415 and 422 where a body is read, 429 where a rate limit or the login
/// throttle applies, 503 where the database or storage is used. Statuses an operation documents itself are kept.
enum OpenAPIStandardResponses {
    static let rateLimited: Set<String> = ["post /api/auth/login", "post /api/vm_images/upload", "post /api/vm_images/upload/sign"]
    static let withoutDependencies: Set<String> = ["/healthz", "/metrics", "/openapi.yaml"]

    static func add(to yaml: String) -> String {
        var lines = yaml.components(separatedBy: "\n")
        var index = 0
        var path = ""
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let method = operation(line) {
                let end = blockEnd(lines, from: index + 1)
                let block = Array(lines[(index + 1)..<end])
                let missing = statuses(path: path, method: method, block: block).filter { status in
                    !block.contains { $0.hasPrefix("        '\(status)':") }
                }
                if let responses = block.firstIndex(of: "      responses:"), !missing.isEmpty {
                    var last = index + 1 + responses
                    while last + 1 < end, lines[last + 1].hasPrefix("        ") { last += 1 }
                    lines.insert(contentsOf: missing.map { "        '\($0)': {$ref: '#/components/responses/Error'}" }, at: last + 1)
                    index = end + missing.count
                    continue
                }
                index = end
                continue
            }
            index += 1
        }
        return lines.joined(separator: "\n")
    }

    static func operation(_ line: String) -> String? {
        for method in ["get", "post", "put", "patch", "delete"] where line == "    \(method):" { return method }
        return nil
    }

    /// The first line after an operation's block: the next operation or path, or a line outside `paths`.
    static func blockEnd(_ lines: [String], from start: Int) -> Int {
        var end = start
        while end < lines.count, lines[end].hasPrefix("      ") { end += 1 }
        return end
    }

    static func statuses(path: String, method: String, block: [String]) -> [String] {
        let text = block.joined(separator: "\n")
        let open = text.contains("security: []")
        let body = text.contains("requestBody:")
        // 401 everywhere: a bearer token that is sent is checked even where none is needed.
        var statuses = ["400", "401"]
        if !open { statuses.append("403") }
        if path.contains("{") { statuses.append("404") }
        if body { statuses += ["413", "415", "422"] }
        if rateLimited.contains("\(method) \(path)") { statuses.append("429") }
        if !withoutDependencies.contains(path) { statuses.append("503") }
        return statuses
    }
}
