extension OpenAPIDocument {
    static let templatePaths = """
      /api/organizations/{org_id}/build-templates:
        parameters: [{name: org_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: The organization's build templates
          responses:
            '200': {description: Templates, content: {application/json: {schema: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/BuildTemplate'}}}}}}}
            '404': {$ref: '#/components/responses/Error'}
        post:
          summary: "Save a build definition: base image (a version, or the latest of its line), software, flags, scripts, resources, target, schedule, promotion rules"
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/BuildTemplateRequest'}}}
          responses:
            '201': {description: Created, content: {application/json: {schema: {$ref: '#/components/schemas/BuildTemplate'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/build-templates/{template_id}:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: template_id, in: path, required: true, schema: {type: string}}
        get:
          summary: A build template
          responses:
            '200': {description: The template, content: {application/json: {schema: {$ref: '#/components/schemas/BuildTemplate'}}}}
            '404': {$ref: '#/components/responses/Error'}
        put:
          summary: Replace a template's fields (a new revision); If-Match refuses a lost update
          parameters:
            - {name: If-Match, in: header, schema: {type: string}}
          requestBody:
            required: true
            content: {application/json: {schema: {$ref: '#/components/schemas/BuildTemplateRequest'}}}
          responses:
            '200': {description: The new revision, content: {application/json: {schema: {$ref: '#/components/schemas/BuildTemplate'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
        delete:
          summary: Remove a template and its run history (its artifacts stay)
          responses:
            '204': {description: Removed}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/build-templates/{template_id}/run:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: template_id, in: path, required: true, schema: {type: string}}
        post:
          summary: Build from the template now (the same as a manual build with its fields)
          responses:
            '201': {description: Queued, content: {application/json: {schema: {$ref: '#/components/schemas/TemplateRun'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/build-templates/{template_id}/runs:
        parameters:
          - {name: org_id, in: path, required: true, schema: {type: string}}
          - {name: template_id, in: path, required: true, schema: {type: string}}
        get:
          summary: The template's runs, newest first, with what became of each artifact (promoted, unchanged, not promoted, failed)
          parameters:
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            '200': {description: Runs, content: {application/json: {schema: {type: object, required: [items], properties: {items: {type: array, items: {$ref: '#/components/schemas/TemplateRun'}}}}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/vm-build/failures:
        get:
          summary: "Recent failed builds grouped by failure code, phase and, for Ansible, the failing role and task, with counts and links to the log lines"
          parameters:
            - {name: window, in: query, schema: {type: string}, description: "Seconds, or with a unit (30m, 24h, 7d); default 7d"}
          responses:
            '200': {description: The report, content: {application/json: {schema: {$ref: '#/components/schemas/FailureReport'}}}}

    """

    static let templateSchemas = """
        BuildTemplateRequest:
          type: object
          additionalProperties: false
          required: [name, base_image_id]
          properties:
            name: {type: string, minLength: 1, maxLength: 100}
            base_image_id: {type: string}
            follow_latest: {type: boolean, description: Build from the newest active version of the base image and rebuild when a new one is uploaded}
            build_type: {type: string, enum: [pvm, vm]}
            vm_name: {type: string}
            build_server_id: {type: string}
            build_options: {$ref: '#/components/schemas/BuildOptions'}
            schedule: {type: string, description: "Five-field cron (minute hour day month weekday) or @daily, @weekly, …"}
            time_zone: {type: string, description: IANA time zone the schedule is read in (default UTC)}
            require_verification: {type: boolean, description: A new artifact replaces the previous version only after a passed boot test}
            promote_to_default: {type: boolean, description: A promoted artifact takes the previous version's place among the organization's default images}
        BuildTemplate:
          type: object
          required: [id, organization_id, name, revision, base_image_id, follow_latest, build_type, build_options, time_zone, require_verification, promote_to_default, created_at, updated_at]
          properties:
            id: {type: string}
            organization_id: {type: string}
            name: {type: string}
            revision: {type: integer}
            base_image_id: {type: string}
            follow_latest: {type: boolean}
            build_type: {type: string}
            vm_name: {type: string}
            build_server_id: {type: string}
            build_options: {$ref: '#/components/schemas/BuildOptions'}
            schedule: {type: string}
            time_zone: {type: string}
            next_run_at: {type: string, format: date-time}
            require_verification: {type: boolean}
            promote_to_default: {type: boolean}
            latest_artifact_id: {type: string, description: The template's current version (its last promoted artifact)}
            last_base_image_id: {type: string}
            created_at: {type: string, format: date-time}
            updated_at: {type: string, format: date-time}
        TemplateRun:
          type: object
          required: [id, template_id, revision, trigger, trigger_key, status, created_at]
          properties:
            id: {type: string}
            template_id: {type: string}
            revision: {type: integer}
            trigger: {type: string, enum: [manual, schedule, base_image]}
            trigger_key: {type: string}
            task_id: {type: string}
            status: {type: string, enum: [building, promoted, unchanged, not_promoted, failed]}
            message: {type: string}
            artifact_image_id: {type: string}
            previous_artifact_id: {type: string}
            diff:
              type: object
              properties:
                added: {type: array, items: {type: string}}
                removed: {type: array, items: {type: string}}
                changed: {type: array, items: {type: object, properties: {name: {type: string}, from: {type: string}, to: {type: string}}}}
            created_at: {type: string, format: date-time}
            finished_at: {type: string, format: date-time}
        FailureReport:
          type: object
          required: [since, failures, groups]
          properties:
            since: {type: string, format: date-time}
            failures: {type: integer}
            groups:
              type: array
              items:
                type: object
                required: [code, count, first_seen, last_seen, examples]
                properties:
                  code: {type: string}
                  phase: {type: string}
                  role: {type: string}
                  ansible_task: {type: string}
                  count: {type: integer}
                  first_seen: {type: string, format: date-time}
                  last_seen: {type: string, format: date-time}
                  examples:
                    type: array
                    items:
                      type: object
                      required: [task_id, image_id, failed_at, console_url]
                      properties:
                        task_id: {type: string}
                        image_id: {type: string}
                        failed_at: {type: string, format: date-time}
                        message: {type: string}
                        log_file: {type: string}
                        line: {type: integer}
                        log_url: {type: string}
                        console_url: {type: string}

    """
}
