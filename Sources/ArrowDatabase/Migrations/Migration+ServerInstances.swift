extension Migrations {
    /// Which server process owns each single upload in flight, and which processes are alive: a process killed
    /// mid-upload leaves a row (and staging bytes) that a restart, or another node, recognises as nobody's and removes.
    static let serverInstances = Migration(version: 6, name: "server_instances") { _ in
        [
            """
            CREATE TABLE server_instances (
                id TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid BIGINT NOT NULL,
                started_at BIGINT NOT NULL,
                heartbeat_at BIGINT NOT NULL
            )
            """,
            "ALTER TABLE images ADD COLUMN upload_owner TEXT NULL",
        ]
    }
}
