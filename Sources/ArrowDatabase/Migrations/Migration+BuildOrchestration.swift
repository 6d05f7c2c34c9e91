extension Migrations {
    /// The queue's lease, phase and checkpoint columns, the builders that claim from it, and the outbox that
    /// announces new work to GitHub. Times are milliseconds since the epoch; lease times come from the database's
    /// clock so hosts with skewed clocks agree on when a lease ended.
    static let buildOrchestration = Migration(version: 7, name: "build_orchestration") { _ in
        [
            "ALTER TABLE vm_build_tasks ADD COLUMN device_type TEXT NOT NULL DEFAULT 'vm'",
            "ALTER TABLE vm_build_tasks ADD COLUMN build_server_id TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN client TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE vm_build_tasks ADD COLUMN vm_name TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN description TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN build_options TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE vm_build_tasks ADD COLUMN notify_on_complete BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE vm_build_tasks ADD COLUMN phase TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE vm_build_tasks ADD COLUMN lease_token TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN leased_until BIGINT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN progress BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE vm_build_tasks ADD COLUMN completed_phases TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE vm_build_tasks ADD COLUMN lease_losses BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE vm_build_tasks ADD COLUMN error_code TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN error_message TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN artifact_image_id TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN builder_id TEXT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN started_at BIGINT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN finished_at BIGINT NULL",
            "ALTER TABLE vm_build_tasks ADD COLUMN logs_archived_at BIGINT NULL",
            "ALTER TABLE device_requests ADD COLUMN device_settings TEXT NULL",
            "CREATE INDEX vm_build_tasks_leases ON vm_build_tasks (status, leased_until)",
            // The claim's order, for queued rows only: the planner takes it even before statistics exist (a fresh
            // database, a burst of triggers), and it stays small however long the history grows.
            "CREATE INDEX vm_build_tasks_claim ON vm_build_tasks (created_at, id) WHERE status = 'queued'",
            "CREATE INDEX vm_build_tasks_claim_organization ON vm_build_tasks (organization_id, created_at, id) WHERE status = 'queued'",
            "CREATE INDEX vm_build_tasks_request ON vm_build_tasks (device_request_id)",
            "CREATE INDEX vm_build_tasks_organization ON vm_build_tasks (organization_id, created_at)",
            """
            CREATE TABLE builders (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES users(id),
                organization_id TEXT NULL REFERENCES organizations(id),
                name TEXT NOT NULL,
                version TEXT NOT NULL,
                device_types TEXT NOT NULL,
                build_servers TEXT NOT NULL,
                current_task_id TEXT NULL,
                registered_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                UNIQUE (account_id, name)
            )
            """,
            """
            CREATE TABLE webhook_outbox (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                organization_id TEXT NULL REFERENCES organizations(id),
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                locked_until BIGINT NULL,
                last_http_status BIGINT NULL,
                last_error TEXT NULL,
                created_at BIGINT NOT NULL,
                delivered_at BIGINT NULL
            )
            """,
            "CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at)",
            """
            CREATE TABLE task_log_chunks (
                task_id TEXT NOT NULL REFERENCES vm_build_tasks(id),
                attempt BIGINT NOT NULL,
                file TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                content TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (task_id, file, attempt, sequence)
            )
            """,
            """
            CREATE TABLE delivery_attempts (
                message_id TEXT NOT NULL REFERENCES webhook_outbox(id),
                number BIGINT NOT NULL,
                at BIGINT NOT NULL,
                http_status BIGINT NULL,
                error TEXT NULL,
                duration_ms BIGINT NOT NULL,
                PRIMARY KEY (message_id, number)
            )
            """,
        ]
    }
}
