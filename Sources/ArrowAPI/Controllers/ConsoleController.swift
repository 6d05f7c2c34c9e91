import ArrowConsole
import ArrowCore
import HTTPTypes
import Hummingbird
import NIOCore

/// What the console needs to know about the deployment it runs in.
public struct ConsoleSettings: Sendable {
    /// The public URL is `https`: session cookies get `Secure`.
    public var publicURLIsHTTPS: Bool
    /// Origins besides this server that the browser sends upload parts to or loads images from (the S3/B2 endpoint
    /// presigned URLs point at); added to the policy's `connect-src` and `img-src`.
    public var storageOrigins: [String]

    public init(publicURLIsHTTPS: Bool = false, storageOrigins: [String] = []) {
        self.publicURLIsHTTPS = publicURLIsHTTPS
        self.storageOrigins = storageOrigins
    }

    /// The Content-Security-Policy of every console response: scripts and styles from this server only (no inline
    /// script or style, no eval), nothing framed, no plug-ins, forms post only here.
    public var contentSecurityPolicy: String {
        let extra = storageOrigins.map { " " + $0 }.joined()
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:\(extra); "
            + "connect-src 'self'\(extra); font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    }
}

/// The web console: `/` (to the collection), `/console/{page}` (a page's shell), `/console/assets/{file}`. The pages
/// hold no data; their scripts read everything from the API with the signed-in session, so these routes are open.
struct ConsoleController {
    let settings: ConsoleSettings

    func register(on routes: APIRoutes) {
        routes.get("/", .open) { _, _ in Self.redirect("/console/images") }
        routes.get("/console", .open) { _, _ in Self.redirect("/console/images") }
        routes.get("/console/:page", .open, use: page)
        routes.get("/console/assets/:file", .open, use: asset)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = try context.parameters.require("page")
        guard let html = ConsoleAssets.page(name) else {
            throw ArrowError(.notFound, reason: "page_not_found", "The console has no page \(name)")
        }
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    @Sendable func asset(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = try context.parameters.require("file")
        guard let file = ConsoleAssets.files[name] else {
            throw ArrowError(.notFound, reason: "asset_not_found", "The console has no file \(name)")
        }
        var headers = securityHeaders
        headers[.contentType] = file.contentType
        headers[.eTag] = file.etag
        // Revalidated on every load, so a new server version's scripts are used at once; unchanged ones cost a 304.
        headers[.cacheControl] = "no-cache"
        if request.headers[.ifNoneMatch] == file.etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    var securityHeaders: HTTPFields {
        [
            HTTPField.Name("Content-Security-Policy")!: settings.contentSecurityPolicy,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
        ]
    }
}
