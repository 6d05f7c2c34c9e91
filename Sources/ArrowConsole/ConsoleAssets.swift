import Foundation

/// One file of the console: its bytes, its media type, and an entity tag for revalidation.
public struct ConsoleAsset: Sendable {
    public let bytes: [UInt8]
    public let contentType: String
    public let etag: String
}

/// The console's scripts, styles and images (`Assets/` of this target, copied into its resource bundle at build time),
/// read once; and the HTML shell of each page.
///
/// The console is plain JavaScript modules over the public API, with no build step: each page is the same small shell
/// naming its module, and everything the page shows comes from the API calls the CLI makes too. No inline script or
/// style anywhere, so the Content-Security-Policy can forbid both.
public enum ConsoleAssets {
    /// The files by name (`console.css`, `images.js`, …).
    public static let files: [String: ConsoleAsset] = load()

    /// The pages, by path segment, with their titles.
    public static let pages: [String: String] = [
        "login": "Sign in", "images": "VM Images", "image": "Image", "builds": "Builds", "task": "Build task",
        "settings": "Organization settings", "operations": "Operations",
    ]

    /// The HTML shell of a page; nil for an unknown page. Only fixed text goes in (no request data).
    public static func page(_ name: String) -> String? {
        guard let title = pages[name] else { return nil }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · ARROW imaging</title>
            <link rel="stylesheet" href="/console/assets/console.css">
            <link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
            <script type="module" src="/console/assets/\(name).js"></script>
            </head>
            <body data-page="\(name)">
            <a class="skip" href="#main">Skip to content</a>
            <header id="top" class="top"></header>
            <main id="main" tabindex="-1"><h1>\(title)</h1><p class="muted" role="status">Loading…</p></main>
            <div id="toasts" class="toasts" role="status" aria-live="polite"></div>
            </body>
            </html>

            """
    }

    static func load() -> [String: ConsoleAsset] {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Assets"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [:] }
        var files: [String: ConsoleAsset] = [:]
        for name in names {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            let bytes = [UInt8](data)
            files[name] = ConsoleAsset(bytes: bytes, contentType: contentType(of: name), etag: etag(bytes))
        }
        return files
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }

    /// FNV-1a over the bytes: enough to tell versions of one file apart.
    static func etag(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))-\(bytes.count)\""
    }
}
