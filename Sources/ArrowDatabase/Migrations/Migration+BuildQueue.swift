extension Migrations {
    /// The build queue and the device requests that feed it: what an image delete must not pull the bytes from
    /// under. The builder's lease, phase and checkpoint columns come with the build-orchestration work.
    static let buildQueue = Migration(version: 5, name: "build_queue") { _ in
        [
            """
            CREATE TABLE device_requests (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                device_type TEXT NOT NULL,
                client TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX device_requests_organization ON device_requests (organization_id, created_at)",
            """
            CREATE TABLE device_request_images (
                request_id TEXT NOT NULL REFERENCES device_requests(id),
                image_id TEXT NOT NULL REFERENCES images(id),
                position INTEGER NOT NULL,
                PRIMARY KEY (request_id, image_id)
            )
            """,
            "CREATE INDEX device_request_images_image ON device_request_images (image_id)",
            """
            CREATE TABLE vm_build_tasks (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                image_id TEXT NOT NULL REFERENCES images(id),
                device_request_id TEXT NULL REFERENCES device_requests(id),
                status TEXT NOT NULL,
                created_by TEXT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX vm_build_tasks_image ON vm_build_tasks (image_id, status)",
            "CREATE INDEX vm_build_tasks_queue ON vm_build_tasks (status, created_at)",
        ]
    }
}
