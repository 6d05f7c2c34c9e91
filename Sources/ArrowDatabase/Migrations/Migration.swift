/// One schema step. Statements are per dialect because types differ (e.g. auto-increment keys); everything else
/// is kept to the SQL both dialects share. Timestamps are Unix milliseconds (`BIGINT`) in both.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var statements: @Sendable (SQLDialectKind) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialectKind) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Every migration, in order. Append only: never edit one that has shipped.
public enum Migrations {
    public static let all: [Migration] = [identity, images, uploadSessions, collections, buildQueue, serverInstances, buildOrchestration, buildConfiguration, imageBuilds, buildServers, imageDownloads, builderRoles, buildTemplates]

    static func serialKey(_ dialect: SQLDialectKind) -> String {
        dialect == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
    }

    static let identity = Migration(version: 1, name: "identity") { dialect in
        [
            """
            CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                organization_id TEXT NULL REFERENCES organizations(id),
                email TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                kind TEXT NOT NULL,
                password_hash TEXT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX users_organization ON users (organization_id)",
            """
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                digest TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                scopes TEXT NULL,
                expires_at BIGINT NULL,
                revoked_at BIGINT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
            """
            CREATE TABLE audit_log (
                id \(serialKey(dialect)),
                organization_id TEXT NULL,
                actor_id TEXT NULL,
                action TEXT NOT NULL,
                target TEXT NULL,
                details TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX audit_log_organization ON audit_log (organization_id, id)",
        ]
    }

    static let images = Migration(version: 2, name: "images") { dialect in
        [
            """
            CREATE TABLE images (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL,
                description TEXT NULL,
                file_name TEXT NOT NULL,
                file_size BIGINT NOT NULL,
                file_type TEXT NOT NULL,
                storage_key TEXT NOT NULL,
                format TEXT NOT NULL,
                virtual_size BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                status TEXT NOT NULL,
                software TEXT NOT NULL,
                ansible_flags TEXT NOT NULL,
                version INTEGER NOT NULL,
                previous_version_id TEXT NULL REFERENCES images(id),
                uploaded_by TEXT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX images_organization ON images (organization_id, status, created_at)",
            "CREATE INDEX images_status ON images (status, updated_at)",
            """
            CREATE TABLE upload_attempts (
                id \(serialKey(dialect)),
                user_id TEXT NOT NULL REFERENCES users(id),
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX upload_attempts_user ON upload_attempts (user_id, created_at)",
        ]
    }

    static let uploadSessions = Migration(version: 3, name: "uploads") { _ in
        [
            """
            CREATE TABLE uploads (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                image_id TEXT NOT NULL,
                file_name TEXT NOT NULL,
                file_type TEXT NULL,
                file_size BIGINT NOT NULL,
                part_size BIGINT NOT NULL,
                storage_key TEXT NOT NULL,
                store_upload_id TEXT NOT NULL,
                fields TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX uploads_expiry ON uploads (status, expires_at)",
        ]
    }

    static let collections = Migration(version: 4, name: "collections") { _ in
        [
            "ALTER TABLE images ADD COLUMN is_public INTEGER NOT NULL DEFAULT 0",
            """
            CREATE TABLE image_shares (
                image_id TEXT NOT NULL REFERENCES images(id),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                shared_by TEXT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (image_id, organization_id)
            )
            """,
            "CREATE INDEX image_shares_organization ON image_shares (organization_id)",
            """
            CREATE TABLE org_default_images (
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                image_id TEXT NOT NULL REFERENCES images(id),
                position INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, image_id)
            )
            """,
            """
            CREATE TABLE metadata_files (
                id TEXT PRIMARY KEY,
                image_id TEXT NOT NULL REFERENCES images(id),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL,
                file_name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                file_size BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                storage_key TEXT NOT NULL,
                created_by TEXT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX metadata_files_image ON metadata_files (image_id, created_at)",
        ]
    }
}
