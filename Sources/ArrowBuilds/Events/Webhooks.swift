import ArrowCore
import ArrowNetwork
import Foundation

/// Organizations' outgoing webhooks for build events: admins register a URL and the events it wants, get the
/// signing secret once, and may delete it. Deliveries go through the outbox (``OutboxDispatcher``).
public struct Webhooks: Sendable {
    let store: any DataStore
    let box: SecretBox
    /// Whether URLs on loopback, private and link-local addresses are accepted (`webhooks.allow.private`): off in
    /// production, where such a URL would let an organization admin make the server call into its own network.
    let allowPrivateAddresses: Bool
    let now: @Sendable () -> Date

    public static let maximumPerOrganization = 20

    public init(store: any DataStore, box: SecretBox, allowPrivateAddresses: Bool, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.box = box
        self.allowPrivateAddresses = allowPrivateAddresses
        self.now = now
    }

    /// The new webhook and its signing secret, shown this once.
    public func create(organization: String, url: String, events: [String], principal: Principal) async throws -> (OrganizationWebhook, secret: String) {
        let id = try await requireAdmin(of: organization, principal)
        try WebhookURL.validate(url, allowPrivate: allowPrivateAddresses)
        var kinds: Set<BuildEvent> = []
        for name in events {
            guard let event = BuildEvent(rawValue: name) else {
                throw ArrowError(.unprocessable, reason: "invalid_webhook",
                                 "events: unknown event \(name); known: \(BuildEvent.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(event)
        }
        if kinds.isEmpty { kinds = Set(BuildEvent.allCases) }
        let secret = "whsec_" + Hex.random(byteCount: 32)
        let webhookID = WebhookID.generate()
        let webhook = OrganizationWebhook(
            id: webhookID, organizationID: id, url: url, sealedSecret: try box.seal(secret, context: Self.context(id, webhookID)),
            events: kinds, createdAt: now(), createdBy: principal.user.id)
        try await store.transaction { repos in
            guard try await repos.webhooks.list(organization: id).count < Self.maximumPerOrganization else {
                throw ArrowError(.conflict, reason: "too_many_webhooks", "An organization may have at most \(Self.maximumPerOrganization) webhooks")
            }
            try await repos.webhooks.create(webhook)
            try await repos.audit.append(AuditEvent(
                organizationID: id, actorID: principal.user.id, action: .webhookCreated, target: webhookID.rawValue,
                details: ["url": url], createdAt: webhook.createdAt))
        }
        return (webhook, secret)
    }

    public func list(organization: String, principal: Principal) async throws -> [OrganizationWebhook] {
        let id = try await requireAdmin(of: organization, principal)
        return try await store.repositories.webhooks.list(organization: id)
    }

    public func delete(organization: String, webhook: String, principal: Principal) async throws {
        let id = try await requireAdmin(of: organization, principal)
        let at = now()
        try await store.transaction { repos in
            guard try await repos.webhooks.delete(id: WebhookID(webhook), scope: .organization(id), at: at) else {
                throw ArrowError.notFound("Webhook")
            }
            try await repos.audit.append(AuditEvent(
                organizationID: id, actorID: principal.user.id, action: .webhookDeleted, target: webhook, createdAt: at))
        }
    }

    func requireAdmin(of organization: String, _ principal: Principal) async throws -> OrganizationID {
        try await OrganizationAdmin.require(of: organization, principal, store)
    }

    static func context(_ organization: OrganizationID, _ webhook: WebhookID) -> String {
        "webhook/\(organization.rawValue)/\(webhook.rawValue)"
    }
}

/// Which URLs a webhook may have.
enum WebhookURL {
    static func validate(_ text: String, allowPrivate: Bool) throws {
        guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil else {
            throw ArrowError(.unprocessable, reason: "invalid_webhook", "url must be an http(s) URL without credentials")
        }
        if !allowPrivate, isPrivate(host: host) {
            throw ArrowError(.unprocessable, reason: "webhook_private_address",
                             "url points at a loopback, private or link-local address; webhooks go to the public internet")
        }
    }

    /// Addresses that are not public (in any form the resolver takes: `127.1` and `2130706433` are loopback too), and
    /// names that only resolve inside a network. A public name that resolves to a private address is caught when a
    /// delivery connects (``OutboundAddressPolicy``): the answer may change between now and then.
    static func isPrivate(host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") || name.hasSuffix(".local") || name.hasSuffix(".internal") { return true }
        return IPAddress(numericHost: name).map { !$0.isPublic } ?? false
    }
}
