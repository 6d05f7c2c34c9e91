import ArrowAPI
import ArrowBuilds
import ArrowCore
import ArrowNetwork
import ArrowRegistry
import ArrowDatabase
import ArrowStorage
import Foundation
import Logging

/// Everything `arrow serve` and the admin commands need to know, resolved once at start-up.
///
/// Sources, highest priority first: command-line flags, environment (`ARROW_*`, plus the seed's own names where it
/// has them), an optional YAML config file (`--config` / `ARROW_CONFIG`), then the defaults below.
public struct AppConfiguration: Sendable, Equatable {
    /// Interface to listen on (`host`, `ARROW_HOST`).
    public var host: String = "127.0.0.1"
    /// TCP port (`port`, `ARROW_PORT`).
    public var port: Int = 8080
    /// Where the embedded defaults keep their files (`data.dir`, `ARROW_DATA_DIR`).
    public var dataDirectory: String = "./arrow-data"
    /// `postgres://…` switches from the embedded SQLite file to PostgreSQL (`database.url`, `ARROW_DATABASE_URL`).
    public var databaseURL: String?
    /// Pooled connections per event loop (`database.connections`, `ARROW_DATABASE_CONNECTIONS`).
    public var databaseConnections: Int = 4
    /// `trace` … `critical` (`log.level`, `ARROW_LOG_LEVEL`).
    public var logLevel: Logger.Level = .info
    /// bcrypt work factor, 4–31 (`bcrypt.cost`, `ARROW_BCRYPT_COST`); tests lower it for speed.
    public var bcryptCost: Int = 12
    /// Lifetime of login tokens in seconds (`session.lifetime`, `ARROW_SESSION_LIFETIME`).
    public var sessionLifetime: Int = 12 * 3600
    /// Seconds a resolved token is trusted without asking the database (`auth.cache.ttl`, `ARROW_AUTH_CACHE_TTL`).
    /// A revocation on another API node takes effect within this time; 0 disables the cache.
    public var authCacheTTL: Double = 2
    /// Connection limits against slow and idle clients (`server.idle.timeout`, `server.header.timeout`,
    /// `server.body.min.rate`, `server.max.connections`; `ARROW_SERVER_…`).
    public var connectionLimits = ConnectionLimits()
    /// Image upload limits; `uploads.per.hour` (`ARROW_UPLOADS_PER_HOUR`, 0 disables) sets the per-user rate limit.
    public var uploadLimits = UploadLimits()

    /// The URL clients reach this server at, for presigned URLs of the local store (`public.url`, `ARROW_PUBLIC_URL`;
    /// default: the listen address).
    public var publicURL: String?
    /// Backblaze B2 / S3 settings from the seed's `B2_*` variables; nil selects the local store.
    public var s3: S3Configuration?

    /// GitHub `repository_dispatch` URL that wakes a runner for new builds (`GITHUB_VM_IMAGING_WEBHOOK_URL`); none:
    /// builders still take every task from the queue.
    public var githubWebhookURL: String?
    /// Sent as `Authorization: token …` (`GITHUB_VM_IMAGING_WEBHOOK_SECRET`).
    public var githubWebhookSecret: Redacted<String>?
    /// Leases, heartbeats and lost-lease retries (`builds.lease.seconds`, `builds.heartbeat.interval`,
    /// `builds.lease.losses`).
    public var queue = QueueSettings()
    /// Seconds between sweeps for expired leases (`builds.sweep.interval`).
    public var sweepInterval: Double = 15
    /// Seconds between the template scheduler's ticks (`templates.interval`): how late a schedule slot or a new base
    /// version may fire, and a finished run be settled.
    public var templateInterval: Double = 15

    /// The key that seals ClientConfig and webhook secrets at rest (`secrets.key`, `ARROW_SECRETS_KEY`, 32 bytes
    /// base64). None: `<data dir>/secrets.key`, created at first start. Every API node of one database needs the same.
    public var secretsKey: Redacted<Data>?
    /// Accept organization webhooks on loopback and private addresses (`webhooks.allow.private`); for tests and
    /// closed networks only.
    public var allowPrivateWebhooks = false
    /// The networks build-server checks may connect to (`builds.servers.networks`); none listed: any address
    /// but a link-local one.
    public var buildServerNetworks: [IPNetwork] = []

    public init() {}

    /// Where GitHub dispatches go.
    public var dispatch: DispatchSettings { DispatchSettings(url: githubWebhookURL, secret: githubWebhookSecret?.value) }

    /// Where objects live: B2/S3 when `B2_BUCKET` is set, else `<data dir>/storage`.
    public var storageRoot: String { URL(fileURLWithPath: dataDirectory).appendingPathComponent("storage").path }

    /// Which store is in use, for operators (no secrets).
    public var storageDescription: String {
        guard let s3 else { return "local, \(storageRoot)" }
        return "B2/S3 bucket \(s3.bucket) at \(s3.endpoint) (region \(s3.region), key id \(s3.accessKeyID))"
    }

    /// The URL presigned local-store URLs start with.
    public var presignBaseURL: String { publicURL ?? baseURL }

    /// The database this configuration selects: PostgreSQL when a URL is set, else SQLite in the data directory.
    public var database: DatabaseConfiguration {
        if let databaseURL, !databaseURL.isEmpty {
            return DatabaseConfiguration(kind: .postgres(url: databaseURL), connectionsPerEventLoop: databaseConnections)
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("arrow.sqlite").path
        return DatabaseConfiguration(kind: .sqlite(path: path), connectionsPerEventLoop: databaseConnections)
    }

    /// The console's cookie and policy settings: `Secure` cookies behind an `https` public URL, and the storage
    /// endpoint's origins (where the browser sends presigned upload parts) allowed by the Content-Security-Policy.
    public var console: ConsoleSettings {
        var origins: [String] = []
        if let s3, let endpoint = URLComponents(string: s3.endpoint), let scheme = endpoint.scheme, let host = endpoint.host {
            let port = endpoint.port.map { ":\($0)" } ?? ""
            origins.append("\(scheme)://\(host)\(port)")
            if !s3.pathStyle { origins.append("\(scheme)://\(s3.bucket).\(host)\(port)") }
        }
        return ConsoleSettings(publicURLIsHTTPS: presignBaseURL.lowercased().hasPrefix("https://"), storageOrigins: origins)
    }

    /// The listen address as a URL, for printing.
    public var baseURL: String {
        let shown = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        return "http://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)"
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
