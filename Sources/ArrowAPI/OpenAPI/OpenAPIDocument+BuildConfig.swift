extension OpenAPIDocument {
    static let buildConfigPaths = """
      /api/vm-build/stats:
        get:
          summary: Success rate and p50/p95 build time per image and per organization over a window
          parameters:
            - {name: window, in: query, description: 'Seconds, or with a unit: 30m, 24h, 7d (default 7d, at most 366d)', schema: {type: string, pattern: '^[0-9]+[smhd]?$'}}
          responses:
            '200': {description: Statistics, content: {application/json: {schema: {$ref: '#/components/schemas/BuildStats'}}}}
      /api/organizations/{org_id}/client-config:
        parameters: [{name: org_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: The organization's ClientConfig, secrets left out (their paths in secrets_set)
          responses:
            '200': {description: The configuration, content: {application/json: {schema: {$ref: '#/components/schemas/ClientConfigView'}}}}
            '404': {$ref: '#/components/responses/Error'}
        put:
          summary: Replace the ClientConfig; secrets left out keep their value, an empty string clears one
          parameters: [{name: If-Match, in: header, description: The revision the change is based on, schema: {type: string}}]
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/ClientConfig'}}}
          responses:
            '200': {description: Stored, content: {application/json: {schema: {$ref: '#/components/schemas/ClientConfigView'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/build-servers:
        parameters: [{name: org_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: The organization's Proxmox VE build servers (token secrets are never shown)
          responses:
            '200': {description: The servers, content: {application/json: {schema: {type: object, required: [build_servers], properties: {build_servers: {type: array, items: {$ref: '#/components/schemas/BuildServer'}}}}}}}
            '404': {$ref: '#/components/responses/Error'}
        post:
          summary: Register a Proxmox VE endpoint; the token secret is sealed at rest and never echoed
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/BuildServerRequest'}}}
          responses:
            '201': {description: Registered, content: {application/json: {schema: {$ref: '#/components/schemas/BuildServer'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/build-servers/{server_id}:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: server_id, in: path, required: true, schema: {type: string}}
        delete:
          summary: Forget a build server (its VMs stay)
          responses:
            '204': {description: Removed}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/build-servers/{server_id}/check:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: server_id, in: path, required: true, schema: {type: string}}
        post:
          summary: Read-only calls to the server (version, storages, the token's permissions) and what a deployment would miss, in words
          responses:
            '200': {description: The check, content: {application/json: {schema: {$ref: '#/components/schemas/BuildServerCheck'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '503': {$ref: '#/components/responses/Error'}
      /api/vm-build/tasks/{task_id}/publish:
        parameters:
          - {name: task_id, in: path, required: true, schema: {type: string}}
          - {name: X-Arrow-Lease-Attempt, in: header, required: true, schema: {type: integer}}
          - {name: X-Arrow-Lease-Token, in: header, required: true, schema: {type: string}}
        post:
          summary: The download target; the builder holding the task's lease publishes the artifact it stored
          requestBody:
            required: true
            content: {application/json: {schema: {type: object, required: [artifact_image_id], properties: {artifact_image_id: {type: string}}}}}
          responses:
            '200': {description: Published, content: {application/json: {schema: {type: object, required: [image_id, download_url], properties: {image_id: {type: string}, download_url: {type: string}}}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '503': {$ref: '#/components/responses/Error'}
      /api/imaging/client-config/{org_id}:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: X-Arrow-Task, in: header, required: true, schema: {type: string}}
          - {name: X-Arrow-Lease-Attempt, in: header, required: true, schema: {type: integer}}
          - {name: X-Arrow-Lease-Token, in: header, required: true, schema: {type: string}}
        get:
          summary: For the builder holding a live lease on one of the organization's tasks, the ClientConfig with its secrets
          responses:
            '200': {description: The configuration, content: {application/json: {schema: {$ref: '#/components/schemas/BuilderClientConfig'}}}}
            '403': {$ref: '#/components/responses/Error'}
      /api/imaging/image-config/{task_id}:
        parameters:
          - {name: task_id, in: path, required: true, schema: {type: string}}
          - {name: X-Arrow-Lease-Attempt, in: header, required: true, schema: {type: integer}}
          - {name: X-Arrow-Lease-Token, in: header, required: true, schema: {type: string}}
        get:
          summary: For the builder holding the task's live lease, its ImageConfig (base image with a presigned download, software, flags, scripts, resources)
          responses:
            '200': {description: The configuration, content: {application/json: {schema: {$ref: '#/components/schemas/ImageConfig'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm-build/tasks/{task_id}/artifact:
        parameters:
          - {name: task_id, in: path, required: true, schema: {type: string}}
          - {name: X-Arrow-Lease-Attempt, in: header, required: true, schema: {type: integer}}
          - {name: X-Arrow-Lease-Token, in: header, required: true, schema: {type: string}}
          - {name: X-Arrow-Artifact-SHA256, in: header, required: true, schema: {type: string}}
          - {name: X-Arrow-Artifact-Name, in: header, schema: {type: string}}
        put:
          summary: The builder holding the task's lease uploads the built image (inspected like any upload) as a new image of the task's organization
          requestBody:
            required: true
            content: {application/octet-stream: {schema: {type: string, format: binary}}}
          responses:
            '201': {description: Stored, content: {application/json: {schema: {type: object, required: [image_id, sha256, size], properties: {image_id: {type: string}, sha256: {type: string}, size: {type: integer}}}}}}
            '403': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/contents:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: What a built image contains (packages, and added/removed/changed against its base) and where it came from
          responses:
            '200': {description: Provenance and contents, content: {application/json: {schema: {$ref: '#/components/schemas/Provenance'}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/notifications:
        get:
          summary: The caller's in-app notifications, newest first
          parameters:
            - {name: unread, in: query, schema: {type: boolean}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            '200': {description: Notifications, content: {application/json: {schema: {$ref: '#/components/schemas/NotificationList'}}}}
      /api/notifications/read-all:
        post:
          summary: Mark all the caller's notifications read
          responses:
            '200': {description: Marked, content: {application/json: {schema: {type: object, required: [marked], properties: {marked: {type: integer}}}}}}
      /api/notifications/{notification_id}/read:
        parameters: [{name: notification_id, in: path, required: true, schema: {type: string}}]
        post:
          summary: Mark one of the caller's notifications read
          responses:
            '204': {description: Marked}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/webhooks:
        parameters: [{name: org_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: The organization's build-event webhooks (secrets are never shown again)
          responses:
            '200': {description: Webhooks, content: {application/json: {schema: {$ref: '#/components/schemas/WebhookList'}}}}
            '404': {$ref: '#/components/responses/Error'}
        post:
          summary: Register a webhook; the answer carries its HMAC-SHA256 signing secret, this once
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [url]
                  properties:
                    url: {type: string}
                    events: {type: array, items: {$ref: '#/components/schemas/BuildEvent'}}
          responses:
            '201': {description: Registered, content: {application/json: {schema: {$ref: '#/components/schemas/Webhook'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/webhooks/{webhook_id}:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: webhook_id, in: path, required: true, schema: {type: string}}
        delete:
          summary: Delete a webhook; its undelivered messages are skipped
          responses:
            '204': {description: Deleted}
            '404': {$ref: '#/components/responses/Error'}

    """

    static let buildConfigSchemas = """
        BuildEvent:
          type: string
          enum: [build.succeeded, build.failed, build.canceled, template.settled]
          description: >-
            build.*: a task ended; the webhook body is {event, occurred_at, organization_id, task}. template.settled: a
            build template's run ended (promoted, unchanged, not_promoted or failed); the body is {event, occurred_at,
            organization_id, template: {id, name}, run} with run as in TemplateRun.
        SoftwareSpec:
          type: object
          required: [name]
          properties: {name: {type: string}, version: {type: string}, ansible_role: {type: string}}
        Package:
          type: object
          required: [name, version, architecture]
          properties: {name: {type: string}, version: {type: string}, architecture: {type: string}}
        Provenance:
          type: object
          required: [task_id, base_image_id, base_sha256, configuration_hash, software, ansible_flags, roles, builder_version, phase_seconds, packages, added, removed, changed]
          properties:
            task_id: {type: string}
            base_image_id: {type: string}
            base_sha256: {type: string}
            configuration_hash: {type: string}
            software: {type: array, items: {$ref: '#/components/schemas/SoftwareSpec'}}
            ansible_flags: {type: object, additionalProperties: {type: boolean}}
            roles: {type: object, additionalProperties: {type: string}}
            builder_version: {type: string}
            phase_seconds: {type: object, additionalProperties: {type: number}}
            packages: {type: array, items: {$ref: '#/components/schemas/Package'}}
            added: {type: array, items: {$ref: '#/components/schemas/Package'}}
            removed: {type: array, items: {$ref: '#/components/schemas/Package'}}
            changed:
              type: array
              items: {type: object, required: [name, from, to], properties: {name: {type: string}, from: {type: string}, to: {type: string}}}
            verification: {$ref: '#/components/schemas/Verification'}
            deployment: {$ref: '#/components/schemas/DeploymentRecord'}
            template:
              type: object
              description: The build template and revision the artifact was built for
              required: [id, name, revision, run_id, trigger]
              properties:
                id: {type: string}
                name: {type: string}
                revision: {type: integer}
                run_id: {type: string}
                trigger: {type: string, enum: [manual, schedule, base_image]}
            size:
              type: object
              description: The artifact's size and what each customization step added to the image's root file system
              required: [artifact_bytes, items]
              properties:
                artifact_bytes: {type: integer}
                base_used_bytes: {type: integer}
                used_bytes: {type: integer}
                items:
                  type: array
                  items:
                    type: object
                    required: [kind, name, bytes]
                    properties:
                      kind: {type: string, enum: [base_configuration, package, dependencies, cache, role, scripts]}
                      name: {type: string}
                      bytes: {type: integer}
        DeploymentRecord:
          type: object
          description: Where the artifact was deployed (a Proxmox VE VM stays; the local QEMU boot is removed after its checks)
          required: [target, addresses, deployed_at]
          properties:
            target: {type: string, enum: [proxmox, qemu, download]}
            build_server_id: {type: string}
            node: {type: string}
            vmid: {type: integer}
            addresses: {type: array, items: {type: string}}
            netbird_peer_id: {type: string}
            netbird_ip: {type: string}
            deployed_at: {type: string}
        BuildServerRequest:
          type: object
          additionalProperties: false
          required: [id, url, token_id, token_secret, node, import_storage]
          properties:
            id: {type: string, pattern: '^[a-z0-9][a-z0-9._-]{0,63}$'}
            name: {type: string, minLength: 1, maxLength: 128}
            url: {type: string, description: 'https://NODE:8006 (http only to a loopback address)'}
            token_id: {type: string, description: 'USER@REALM!TOKENID'}
            token_secret: {type: string, description: Secret, write-only, minLength: 1, maxLength: 256}
            node: {type: string}
            import_storage: {type: string, description: Storage with import content (uploads)}
            disk_storage: {type: string, description: 'Storage with images content (VM disks); default local-lvm'}
            bridge: {type: string, description: Default vmbr0}
            vlan: {type: integer, minimum: 1, maximum: 4094}
            ca_pem: {type: string, description: PEM of the CA that signs the node's certificate}
            snippets_storage: {type: string, description: 'A storage with snippets content: NetBird keys reach VMs at first boot through cicustom'}
            snippets_directory: {type: string, description: Where builder hosts see that storage's snippets directory (a shared mount)}
            tls_fingerprint: {type: string, description: 'Instead of ca_pem, the SHA-256 of the node''s self-signed certificate (hex, colons allowed), pinned'}
        BuildServer:
          type: object
          required: [id, name, url, token_id, token_secret_set, node, import_storage, disk_storage, bridge, ca_pem_set, created_at]
          properties:
            id: {type: string}
            name: {type: string}
            url: {type: string}
            token_id: {type: string}
            token_secret_set: {type: boolean}
            node: {type: string}
            import_storage: {type: string}
            disk_storage: {type: string}
            bridge: {type: string}
            vlan: {type: integer}
            ca_pem_set: {type: boolean}
            snippets_storage: {type: string}
            snippets_directory: {type: string}
            tls_fingerprint: {type: string}
            created_at: {type: string, format: date-time}
        BuildServerCheck:
          type: object
          required: [ok, problems, notes]
          properties:
            ok: {type: boolean}
            version: {type: string}
            problems: {type: array, items: {type: string}, description: What a deployment would miss, in words}
            notes: {type: array, items: {type: string}}
        Verification:
          type: object
          description: The boot test's result (the artifact booted on the builder host, its checks run inside over SSH).
          required: [status, accelerator, boot_seconds, total_seconds, checks, verified_at]
          properties:
            status: {type: string, enum: [passed, failed]}
            accelerator: {type: string, enum: [kvm, tcg]}
            boot_seconds: {type: number}
            total_seconds: {type: number}
            verified_at: {type: string}
            checks:
              type: array
              items: {type: object, required: [name, passed, output], properties: {name: {type: string}, passed: {type: boolean}, output: {type: string}}}
        ClientConfig:
          type: object
          additionalProperties: false
          properties:
            vpn_config:
              type: object
              additionalProperties: false
              properties:
                management_url: {type: string}
                setup_key: {type: string, description: Secret, write-only}
                package_repository: {type: string}
                groups: {type: array, items: {type: string}}
                api_url: {type: string, description: The NetBird management REST API; with api_token each deployment gets a one-off setup key}
                api_token: {type: string, description: 'Secret, write-only; a NetBird personal access token'}
            network_settings:
              type: object
              additionalProperties: false
              properties:
                hostname: {type: string}
                domain: {type: string}
                interface: {type: string}
                mode: {type: string, enum: [dhcp, static]}
                address: {type: string, description: CIDR}
                gateway: {type: string}
                dns: {type: array, items: {type: string}}
            branding:
              type: object
              additionalProperties: false
              properties:
                organization_name: {type: string}
                motd: {type: string}
                issue: {type: string}
                login_banner: {type: string}
                logo_base64: {type: string}
                wallpaper_base64: {type: string}
                primary_color: {type: string}
            default_software: {type: array, items: {$ref: '#/components/schemas/SoftwareSpec'}}
            users:
              type: array
              items:
                type: object
                additionalProperties: false
                required: [name]
                properties:
                  name: {type: string}
                  password_hash: {type: string, description: 'Secret, write-only; a crypt(3) hash'}
                  ssh_authorized_keys: {type: array, items: {type: string}}
                  sudo: {type: boolean}
                  shell: {type: string}
            timezone: {type: string}
            require_verified_images: {type: boolean, description: Only images whose boot test passed may become defaults or be deployed to Proxmox VE}
            deployment:
              type: object
              additionalProperties: false
              description: Where builds deploy when their build options do not say
              properties:
                target: {type: string, enum: [qemu, proxmox, download, none]}
                build_server_id: {type: string}
        ClientConfigView:
          type: object
          required: [organization_id, revision, config, secrets_set]
          properties:
            organization_id: {type: string}
            revision: {type: integer}
            updated_at: {type: string, format: date-time}
            config: {$ref: '#/components/schemas/ClientConfig'}
            secrets_set: {type: array, items: {type: string}}
        BuilderClientConfig:
          type: object
          required: [organization_id, revision, config]
          properties:
            organization_id: {type: string}
            revision: {type: integer}
            config: {$ref: '#/components/schemas/ClientConfig'}
        ImageConfig:
          type: object
          required: [task_id, attempt, organization_id, image_id, base_image, software, ansible_flags, custom_scripts, hostname, device_type, configuration_hash]
          properties:
            task_id: {type: string}
            attempt: {type: integer}
            organization_id: {type: string}
            image_id: {type: string}
            base_image:
              type: object
              required: [id, name, file_name, format, size, virtual_size, sha256, download_url, download_headers, download_expires_at]
              properties:
                id: {type: string}
                name: {type: string}
                file_name: {type: string}
                format: {type: string}
                size: {type: integer}
                virtual_size: {type: integer}
                sha256: {type: string}
                download_url: {type: string}
                download_headers: {type: object, additionalProperties: {type: string}}
                download_expires_at: {type: string, format: date-time}
            software: {type: array, items: {$ref: '#/components/schemas/SoftwareSpec'}}
            ansible_flags: {type: object, additionalProperties: {type: boolean}}
            custom_scripts: {type: array, items: {type: string}}
            resource_allocation: {type: object, properties: {cores: {type: integer}, memory_mb: {type: integer}, disk_gb: {type: integer}}}
            hostname: {type: string}
            vm_name: {type: string}
            device_type: {type: string, enum: [pvm, vm]}
            deployment_target: {type: string, enum: [qemu, proxmox, download, none]}
            keep_on_failure: {type: boolean}
            proxmox:
              type: object
              description: With deployment_target proxmox, the task's build server, its token secret included (builders only)
              required: [id, url, token_id, token_secret, node, import_storage, disk_storage, bridge]
              properties:
                id: {type: string}
                url: {type: string}
                token_id: {type: string}
                token_secret: {type: string}
                node: {type: string}
                import_storage: {type: string}
                disk_storage: {type: string}
                bridge: {type: string}
                vlan: {type: integer}
                ca_pem: {type: string}
                snippets_storage: {type: string}
                snippets_directory: {type: string}
                tls_fingerprint: {type: string}
            stored_artifact:
              type: object
              description: The artifact an earlier attempt stored, when this attempt resumes at deployment (it is deployed, not rebuilt)
              required: [image_id, size, sha256, download_url, download_headers, provenance]
              properties:
                image_id: {type: string}
                size: {type: integer}
                sha256: {type: string}
                download_url: {type: string}
                download_headers: {type: object, additionalProperties: {type: string}}
                provenance: {$ref: '#/components/schemas/Provenance'}
            build_server_id: {type: string}
            configuration_hash: {type: string}
        Notification:
          type: object
          required: [id, event, title, body, created_at]
          properties:
            id: {type: string}
            event: {$ref: '#/components/schemas/BuildEvent'}
            title: {type: string}
            body: {type: string}
            task_id: {type: string}
            organization_id: {type: string}
            created_at: {type: string, format: date-time}
            read_at: {type: string, format: date-time}
        NotificationList: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/Notification'}}}}
        Webhook:
          type: object
          required: [id, organization_id, url, events, created_at]
          properties:
            id: {type: string}
            organization_id: {type: string}
            url: {type: string}
            events: {type: array, items: {$ref: '#/components/schemas/BuildEvent'}}
            created_at: {type: string, format: date-time}
            secret: {type: string, description: Only in the answer to the create request}
        WebhookList: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/Webhook'}}}}
        StatsGroup:
          type: object
          required: [builds, succeeded, failed, canceled, failures]
          properties:
            image_id: {type: string}
            organization_id: {type: string}
            builds: {type: integer}
            succeeded: {type: integer}
            failed: {type: integer}
            canceled: {type: integer}
            success_rate: {type: number}
            p50_seconds: {type: number}
            p95_seconds: {type: number}
            failures: {type: object, additionalProperties: {type: integer}}
        BuildStats:
          type: object
          required: [since, until, truncated, by_image, by_organization]
          properties:
            since: {type: string, format: date-time}
            until: {type: string, format: date-time}
            truncated: {type: boolean}
            by_image: {type: array, items: {$ref: '#/components/schemas/StatsGroup'}}
            by_organization: {type: array, items: {$ref: '#/components/schemas/StatsGroup'}}

    """
}
