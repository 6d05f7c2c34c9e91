import ArrowCore
import HTTPTypes
import Hummingbird

/// What a route demands of the caller before its handler runs. Every API route declares one when it is registered
/// (``APIRoutes``), so a route cannot be added without saying who may call it, and the permission matrix test walks
/// the declarations. Handlers and the registry still check again where the rule depends on the data (own rows,
/// organization reach).
public enum RouteAccess: Sendable, Hashable {
    /// No bearer token: health, metrics, the OpenAPI document, login, and the presigned storage URLs (whose
    /// signature is the credential).
    case open
    /// Any valid token; the handler narrows further (the caller's own rows).
    case authenticated
    /// The user's role and the presented token's scopes must both hold the permission.
    case permission(Permission)
    /// A superuser whose token holds the permission.
    case superuser(Permission)
    /// A builder service account (its token holds `builder`); people, superusers included, are refused: a task's
    /// lease belongs to a worker.
    case builder

    /// The permission the route needs, if any.
    public var permission: Permission? {
        switch self {
        case .open, .authenticated: nil
        case .permission(let permission), .superuser(let permission): permission
        case .builder: .builder
        }
    }

    func check(_ context: AppRequestContext) throws {
        switch self {
        case .open:
            return
        case .authenticated:
            _ = try context.requirePrincipal()
        case .permission(let permission):
            _ = try context.require(permission)
        case .superuser(let permission):
            let principal = try context.require(permission)
            guard principal.isSuperuser else {
                throw ArrowError(.forbidden, reason: "superuser_required", "Only a superuser may do this")
            }
        case .builder:
            let principal = try context.require(.builder)
            guard principal.user.kind == .service else {
                throw ArrowError(.forbidden, reason: "builder_required", "Only a builder service account may do this")
            }
        }
    }
}

/// One registered route and what it demands.
public struct DeclaredRoute: Sendable, Hashable, CustomStringConvertible {
    public let method: HTTPRequest.Method
    /// The router's path, `:name` for parameters and `**` for the rest of the path.
    public let path: String
    public let access: RouteAccess

    public var description: String { "\(method) \(path)" }
}

/// The registration surface controllers use: each route is added with its ``RouteAccess``, which is checked before
/// the handler (and before a byte of the body is read) and recorded in ``declared``.
final class APIRoutes {
    let router: Router<AppRequestContext>
    private(set) var declared: [DeclaredRoute] = []

    init(router: Router<AppRequestContext>) { self.router = router }

    func get(_ path: String, _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        add(.get, path, access, handler)
    }

    func post(_ path: String, _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        add(.post, path, access, handler)
    }

    func put(_ path: String, _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        add(.put, path, access, handler)
    }

    func patch(_ path: String, _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        add(.patch, path, access, handler)
    }

    func delete(_ path: String, _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        add(.delete, path, access, handler)
    }

    private func add<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, _ access: RouteAccess,
        _ handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) {
        declared.append(DeclaredRoute(method: method, path: path, access: access))
        router.on(RouterPath(path), method: method) { request, context in
            try access.check(context)
            return try await handler(request, context)
        }
    }
}
