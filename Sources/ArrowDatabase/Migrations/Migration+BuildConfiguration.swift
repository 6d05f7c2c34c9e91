extension Migrations {
    /// Organizations' ClientConfig (secrets sealed inside the document), per-phase timings of every attempt, in-app
    /// notifications, and organizations' outgoing webhooks (delivered through the outbox).
    static let buildConfiguration = Migration(version: 8, name: "build_configuration") { _ in
        [
            """
            CREATE TABLE client_configs (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                document TEXT NOT NULL,
                revision BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NULL
            )
            """,
            """
            CREATE TABLE vm_build_task_phases (
                task_id TEXT NOT NULL REFERENCES vm_build_tasks(id),
                attempt BIGINT NOT NULL,
                phase TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                finished_at BIGINT NULL,
                PRIMARY KEY (task_id, attempt, phase)
            )
            """,
            "CREATE INDEX vm_build_tasks_finished ON vm_build_tasks (finished_at)",
            """
            CREATE TABLE notifications (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                organization_id TEXT NULL REFERENCES organizations(id),
                event TEXT NOT NULL,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                task_id TEXT NULL,
                created_at BIGINT NOT NULL,
                read_at BIGINT NULL
            )
            """,
            "CREATE INDEX notifications_user ON notifications (user_id, created_at)",
            """
            CREATE TABLE org_webhooks (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                url TEXT NOT NULL,
                secret TEXT NOT NULL,
                events TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NULL,
                deleted_at BIGINT NULL
            )
            """,
            "CREATE INDEX org_webhooks_organization ON org_webhooks (organization_id)",
            "ALTER TABLE webhook_outbox ADD COLUMN webhook_id TEXT NULL",
        ]
    }
}

extension Migrations {
    /// Built images' provenance and contents (the builder's `succeeded` report), one row per artifact.
    static let imageBuilds = Migration(version: 9, name: "image_builds") { _ in
        [
            """
            CREATE TABLE image_builds (
                image_id TEXT PRIMARY KEY REFERENCES images(id),
                task_id TEXT NOT NULL REFERENCES vm_build_tasks(id),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                provenance TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
        ]
    }
}

extension Migrations {
    /// Proxmox VE endpoints organizations deploy to; the token secret sealed (``SecretBox`` in ArrowBuilds).
    static let buildServers = Migration(version: 10, name: "build_servers") { _ in
        [
            """
            CREATE TABLE build_servers (
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                settings TEXT NOT NULL,
                sealed_secret TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NULL,
                PRIMARY KEY (organization_id, id)
            )
            """,
        ]
    }
}

extension Migrations {
    /// Images published for download (the `download` deployment target): the stable URL of their public copy.
    static let imageDownloads = Migration(version: 11, name: "image_downloads") { _ in
        ["ALTER TABLE images ADD COLUMN download_url TEXT NULL"]
    }

    /// The Ansible roles each builder offers (comma separated, as its device types and build servers are).
    static let builderRoles = Migration(version: 12, name: "builder_roles") { _ in
        ["ALTER TABLE builders ADD COLUMN roles TEXT NOT NULL DEFAULT ''"]
    }
}
