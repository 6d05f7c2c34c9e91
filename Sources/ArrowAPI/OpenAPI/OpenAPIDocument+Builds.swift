extension OpenAPIDocument {
    static let buildPaths = """
      /api/vm-imaging/trigger:
        post:
          summary: The ARROW platform's trigger; one queued task per image, a device request, and a GitHub dispatch
          description: The same request_id with the same images again creates nothing and answers 200 with the existing tasks.
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/ImagingTrigger'}}}
          responses:
            '201': {description: Queued, content: {application/json: {schema: {$ref: '#/components/schemas/TriggerResponse'}}}}
            '200': {description: Already triggered, content: {application/json: {schema: {$ref: '#/components/schemas/TriggerResponse'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm-imaging/dispatches:
        get:
          summary: GitHub dispatches and every delivery attempt, newest first
          parameters: [{name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}]
          responses:
            '200': {description: Dispatches, content: {application/json: {schema: {$ref: '#/components/schemas/DispatchList'}}}}
      /api/vm-build/trigger:
        post:
          summary: An administrator's manual build of one image
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/ManualBuild'}}}
          responses:
            '201': {description: Queued, content: {application/json: {schema: {$ref: '#/components/schemas/TriggerResponse'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/deploy:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        post:
          summary: Deploy an image of the caller's organization as it is (no build; a task that starts at the deployment phase)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  additionalProperties: false
                  required: [target]
                  properties:
                    target: {type: string, enum: [qemu, proxmox], description: 'qemu: booted on a builder host and checked; proxmox: a VM on the build server'}
                    build_server_id: {type: string}
                    vm_name: {type: string, maxLength: 128}
                    keep_on_failure: {type: boolean}
          responses:
            '201': {description: Queued, content: {application/json: {schema: {$ref: '#/components/schemas/TriggerResponse'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/vm-build/tasks:
        get:
          summary: For a builder, the queued tasks it could claim; for people (build.read), the organization's tasks
          parameters:
            - {name: status, in: query, schema: {$ref: '#/components/schemas/TaskStatus'}}
            - {name: image_id, in: query, schema: {type: string}}
            - {name: device_request_id, in: query, schema: {type: string}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            '200': {description: Tasks, content: {application/json: {schema: {$ref: '#/components/schemas/TaskList'}}}}
      /api/vm-build/tasks/claim:
        post:
          summary: A builder takes the oldest task it can build, long-polling up to `wait` seconds
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/ClaimRequest'}}}
          responses:
            '201': {description: Claimed, content: {application/json: {schema: {$ref: '#/components/schemas/Claim'}}}}
            '204': {description: Nothing to build}
      /api/vm-build/task-status:
        post:
          summary: A builder's report under its lease (heartbeat, phase, success, failure)
          description: A report from an older attempt is 409 stale_lease; a heartbeat for a canceled task answers cancel=true.
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/StatusReport'}}}
          responses:
            '200': {description: Applied, content: {application/json: {schema: {$ref: '#/components/schemas/StatusReply'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm-build/tasks/{task_id}:
        parameters: [{name: task_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: A task's status, phase, progress, attempt, error and artifact, with phase timings and log links
          responses:
            '200': {description: The task, content: {application/json: {schema: {$ref: '#/components/schemas/BuildTask'}}}}
      /api/vm-build/tasks/{task_id}/retry:
        parameters:
          - {name: task_id, in: path, required: true, schema: {type: string}}
          - {name: fresh, in: query, description: Start over instead of resuming after the last completed phase, schema: {type: boolean}}
        post:
          summary: A new attempt of a failed or canceled task
          responses:
            '200': {description: Queued again, content: {application/json: {schema: {$ref: '#/components/schemas/BuildTask'}}}}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm-build/tasks/{task_id}/cancel:
        parameters: [{name: task_id, in: path, required: true, schema: {type: string}}]
        post:
          summary: Cancel a queued or running task; a running builder learns it at its next heartbeat
          responses:
            '200': {description: Canceled, content: {application/json: {schema: {$ref: '#/components/schemas/BuildTask'}}}}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm-build/task-logs:
        post:
          summary: A builder appends a chunk to one of the four logs, under its lease (idempotent per attempt and sequence)
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/TaskLogUpload'}}}
          responses:
            '201': {description: Stored, content: {application/json: {schema: {$ref: '#/components/schemas/TaskLogReceipt'}}}}
            '200': {description: Already stored, content: {application/json: {schema: {$ref: '#/components/schemas/TaskLogReceipt'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/build-logs/proxy:
        get:
          summary: One of a task's four logs, whole or by Range; with follow=true, new lines as Server-Sent Events until the task ends
          parameters:
            - {name: task, in: query, required: true, schema: {type: string}}
            - {name: file, in: query, required: true, schema: {type: string, enum: [download.log, ansible.log, deploy.log, summary.log]}}
            - {name: follow, in: query, schema: {type: boolean}}
            - {name: Range, in: header, schema: {type: string}}
          responses:
            '200': {description: The log, content: {text/plain: {schema: {type: string}}, text/event-stream: {schema: {type: string}}}}
            '206': {description: Part of the log, content: {text/plain: {schema: {type: string}}}}
            '404': {$ref: '#/components/responses/Error'}
            '416': {$ref: '#/components/responses/Error'}
      /api/vm-build/events:
        get:
          summary: "The organization's tasks as Server-Sent Events: a task event per task (newest 100), ready, then a task event whenever one changes"
          parameters:
            - {name: once, in: query, schema: {type: boolean}, description: End the stream after the ready event}
          responses:
            '200': {description: The event stream, content: {text/event-stream: {schema: {type: string}}}}
      /api/builders:
        get:
          summary: Registered builders with their current task and last heartbeat
          responses:
            '200': {description: Builders, content: {application/json: {schema: {$ref: '#/components/schemas/BuilderList'}}}}
      /api/device-requests:
        get:
          summary: The organization's device requests, newest first
          parameters:
            - {name: status, in: query, schema: {type: string, enum: [pending, imaging, ready, failed, canceled]}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            '200': {description: Device requests, content: {application/json: {schema: {$ref: '#/components/schemas/DeviceRequestList'}}}}
      /api/device-requests/{request_id}:
        parameters: [{name: request_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: A device request with its tasks
          responses:
            '200': {description: The device request, content: {application/json: {schema: {$ref: '#/components/schemas/DeviceRequest'}}}}

    """

    static let buildSchemas = """
        TaskStatus: {type: string, enum: [queued, running, succeeded, failed, canceled]}
        Phase: {type: string, enum: [preparation, customization, finalization, deployment]}
        FailureCode:
          type: string
          enum: [download_timeout, checksum_mismatch, ansible_failed, disk_space, api_timeout, image_unavailable, mount_failed, package_install_failed, script_failed, seal_failed, upload_failed, deploy_failed, deploy_upload_failed, vm_create_failed, boot_timeout, verify_failed, vpn_enroll_failed, config_invalid, missing_heartbeat, internal_error]
        ImagingTrigger:
          type: object
          required: [request_id, device_type, images, organization, client, timestamp]
          properties:
            request_id: {type: string, description: The device request id}
            device_type: {type: string, enum: [pvm, vm]}
            images:
              type: array
              items:
                type: object
                required: [id, name]
                properties: {id: {type: string}, name: {type: string}, metadata: {type: object}}
            organization: {type: string}
            client: {type: string}
            timestamp: {type: string, description: ISO 8601}
        ManualBuild:
          type: object
          required: [image_id, build_type]
          properties:
            image_id: {type: string}
            image_name: {type: string}
            build_server_id: {type: string}
            build_type: {type: string, enum: [pvm, vm]}
            client_id: {type: string}
            organization_id: {type: string}
            vm_name: {type: string}
            description: {type: string}
            notify_on_complete: {type: boolean}
            build_options: {$ref: '#/components/schemas/BuildOptions'}
        BuildOptions:
          type: object
          additionalProperties: false
          properties:
            software: {type: array, items: {type: object, required: [name], properties: {name: {type: string}, version: {type: string}, ansible_role: {type: string}}}}
            ansible_flags: {type: object, additionalProperties: {type: boolean}}
            custom_scripts: {type: array, items: {type: string}}
            resource_allocation: {type: object, properties: {cores: {type: integer}, memory_mb: {type: integer}, disk_gb: {type: integer}}}
            hostname: {type: string}
            fresh: {type: boolean}
            deployment_target: {type: string, enum: [qemu, proxmox, download, none], description: "qemu (default, unless the organization's deployment.target says otherwise): the artifact is booted on the builder host and checked; proxmox: deployed as a VM to the build server (build_server_id); download: published at a stable public URL; none: only stored"}
            keep_on_failure: {type: boolean, description: A failed Proxmox deployment leaves its VM and uploaded volume for inspection}
        TriggerResponse:
          type: object
          required: [tasks, created]
          properties:
            created: {type: boolean}
            tasks:
              type: array
              items:
                type: object
                required: [id, image_id, status]
                properties: {id: {type: string}, image_id: {type: string}, status: {$ref: '#/components/schemas/TaskStatus'}}
        BuildTask:
          type: object
          required: [id, organization_id, image_id, device_type, client, status, progress, attempt, completed_phases, notify_on_complete, created_at]
          properties:
            id: {type: string}
            organization_id: {type: string}
            image_id: {type: string}
            device_request_id: {type: string}
            device_type: {type: string, enum: [pvm, vm]}
            build_server_id: {type: string}
            client: {type: string}
            vm_name: {type: string}
            description: {type: string}
            status: {$ref: '#/components/schemas/TaskStatus'}
            phase: {$ref: '#/components/schemas/Phase'}
            progress: {type: integer, minimum: 0, maximum: 100}
            attempt: {type: integer}
            completed_phases: {type: array, items: {$ref: '#/components/schemas/Phase'}}
            error_code: {$ref: '#/components/schemas/FailureCode'}
            error_message: {type: string}
            artifact_image_id: {type: string}
            builder_id: {type: string}
            notify_on_complete: {type: boolean}
            created_at: {type: string, format: date-time}
            started_at: {type: string, format: date-time}
            finished_at: {type: string, format: date-time}
            leased_until: {type: string, format: date-time}
            phase_timings:
              type: array
              description: With a single task only
              items:
                type: object
                required: [attempt, phase, started_at, seconds]
                properties:
                  attempt: {type: integer}
                  phase: {$ref: '#/components/schemas/Phase'}
                  started_at: {type: string, format: date-time}
                  finished_at: {type: string, format: date-time}
                  seconds: {type: number}
            logs: {type: object, description: With a single task only; the proxy URL of each log by file name, additionalProperties: {type: string}}
        TaskList: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/BuildTask'}}}}
        BuilderRegistration:
          type: object
          required: [name, version, device_types]
          properties:
            name: {type: string}
            version: {type: string}
            device_types: {type: array, items: {type: string, enum: [pvm, vm]}}
            build_servers: {type: array, items: {type: string}}
            roles: {type: array, items: {type: string}, maxItems: 200, description: The Ansible roles the builder can run}
        ClaimRequest:
          type: object
          required: [builder]
          properties:
            builder: {$ref: '#/components/schemas/BuilderRegistration'}
            wait: {type: integer, minimum: 0, maximum: 60, description: Seconds to wait for a task}
        Claim:
          type: object
          required: [task, lease, builder_id]
          properties:
            task: {$ref: '#/components/schemas/BuildTask'}
            builder_id: {type: string}
            lease:
              type: object
              required: [attempt, token, expires_in, heartbeat_interval]
              properties: {attempt: {type: integer}, token: {type: string}, expires_in: {type: integer}, heartbeat_interval: {type: integer}}
        StatusReport:
          type: object
          required: [task_id, attempt, lease_token, event]
          properties:
            task_id: {type: string}
            attempt: {type: integer}
            lease_token: {type: string}
            event: {type: string, enum: [heartbeat, phase, succeeded, failed]}
            phase: {$ref: '#/components/schemas/Phase'}
            progress: {type: integer, minimum: 0, maximum: 100}
            artifact_image_id: {type: string}
            error_code: {$ref: '#/components/schemas/FailureCode'}
            message: {type: string}
            provenance: {$ref: '#/components/schemas/Provenance'}
        StatusReply:
          type: object
          required: [status, cancel, lease_expires_in]
          properties: {status: {$ref: '#/components/schemas/TaskStatus'}, cancel: {type: boolean}, lease_expires_in: {type: integer}}
        Builder:
          type: object
          required: [id, name, version, device_types, build_servers, roles, registered_at, last_seen_at]
          properties:
            id: {type: string}
            name: {type: string}
            version: {type: string}
            organization_id: {type: string}
            device_types: {type: array, items: {type: string}}
            build_servers: {type: array, items: {type: string}}
            roles: {type: array, items: {type: string}}
            current_task_id: {type: string}
            registered_at: {type: string, format: date-time}
            last_seen_at: {type: string, format: date-time}
        BuilderList: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/Builder'}}}}
        Dispatch:
          type: object
          required: [id, kind, subject, status, attempts, next_attempt_at, created_at, history]
          properties:
            id: {type: string}
            kind: {type: string, enum: [github_dispatch, org_webhook]}
            subject: {type: string}
            webhook_id: {type: string}
            status: {type: string, enum: [pending, delivered, failed, skipped]}
            attempts: {type: integer}
            next_attempt_at: {type: string, format: date-time}
            last_http_status: {type: integer}
            last_error: {type: string}
            created_at: {type: string, format: date-time}
            delivered_at: {type: string, format: date-time}
            history:
              type: array
              items:
                type: object
                required: [number, at, duration_ms]
                properties: {number: {type: integer}, at: {type: string, format: date-time}, http_status: {type: integer}, error: {type: string}, duration_ms: {type: integer}}
        DispatchList: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/Dispatch'}}}}
        DeviceRequest:
          type: object
          required: [id, organization_id, device_type, client, status, image_ids, created_at, updated_at]
          properties:
            id: {type: string}
            organization_id: {type: string}
            device_type: {type: string}
            client: {type: string}
            status: {type: string, enum: [pending, imaging, ready, failed, canceled]}
            image_ids: {type: array, items: {type: string}}
            device_settings:
              type: object
              description: Where the request's artifact was deployed (written when a task deploys), and its verification
              properties:
                vm_id: {type: integer}
                node: {type: string}
                address: {type: string}
                addresses: {type: array, items: {type: string}}
                vpn_peer_id: {type: string}
                vpn_address: {type: string}
                build_server_id: {type: string}
                image_id: {type: string}
                task_id: {type: string}
                verification: {type: string, enum: [passed, failed]}
            created_at: {type: string, format: date-time}
            updated_at: {type: string, format: date-time}
            tasks: {type: array, items: {$ref: '#/components/schemas/BuildTask'}}
        TaskLogUpload:
          type: object
          required: [task_id, attempt, lease_token, file, sequence, content]
          properties:
            task_id: {type: string}
            attempt: {type: integer}
            lease_token: {type: string}
            file: {type: string, enum: [download, ansible, deploy, summary, download.log, ansible.log, deploy.log, summary.log]}
            sequence: {type: integer, minimum: 0}
            content: {type: string}
        TaskLogReceipt: {type: object, required: [stored], properties: {stored: {type: boolean}}}
        DeviceRequestList: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/DeviceRequest'}}}}

    """
}
