extension Migrations {
    /// Build templates and their runs. A run's `trigger_key` is unique per template: the database, not a lock,
    /// decides which API node fires a schedule slot or a new base version.
    static let buildTemplates = Migration(version: 13, name: "build_templates") { _ in
        [
            """
            CREATE TABLE build_templates (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL,
                revision INTEGER NOT NULL,
                definition TEXT NOT NULL,
                schedule TEXT NULL,
                time_zone TEXT NOT NULL,
                next_run_at BIGINT NULL,
                require_verification INTEGER NOT NULL,
                promote_to_default INTEGER NOT NULL,
                latest_artifact_id TEXT NULL,
                last_base_image_id TEXT NULL,
                created_by TEXT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (organization_id, name)
            )
            """,
            "CREATE INDEX build_templates_due ON build_templates (next_run_at)",
            """
            CREATE TABLE template_runs (
                id TEXT PRIMARY KEY,
                template_id TEXT NOT NULL REFERENCES build_templates(id) ON DELETE CASCADE,
                organization_id TEXT NOT NULL,
                revision INTEGER NOT NULL,
                trigger_kind TEXT NOT NULL,
                trigger_key TEXT NOT NULL,
                task_id TEXT NULL,
                status TEXT NOT NULL,
                message TEXT NULL,
                artifact_image_id TEXT NULL,
                previous_artifact_id TEXT NULL,
                diff TEXT NULL,
                created_at BIGINT NOT NULL,
                finished_at BIGINT NULL,
                UNIQUE (template_id, trigger_key)
            )
            """,
            "CREATE INDEX template_runs_open ON template_runs (status, created_at)",
        ]
    }
}
