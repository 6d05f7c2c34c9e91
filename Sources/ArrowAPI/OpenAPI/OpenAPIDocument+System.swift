import HTTPTypes
import Logging
extension OpenAPIDocument {
    static let systemPaths = """
      /healthz:
        get:
          summary: The process is alive
          security: []
          responses:
            '200': {description: ok}
      /readyz:
        get:
          summary: The database answers
          security: []
          responses:
            '200': {description: ready}
            '503': {$ref: '#/components/responses/Error'}
      /metrics:
        get:
          summary: Prometheus metrics (request counts and latency histograms by route)
          security: []
          responses:
            '200': {description: Prometheus text format}
      /api/storage/objects/{key}:
        parameters: [{name: key, in: path, required: true, description: 'Object key, each segment percent-encoded', schema: {type: string}}]
        get:
          summary: Download through a presigned URL of the local store (Range honoured)
          security: []
          parameters: [{$ref: '#/components/parameters/Expires'}, {$ref: '#/components/parameters/Signature'}]
          responses:
            '200': {description: The object, streamed}
            '206': {description: The requested range}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '416': {$ref: '#/components/responses/Error'}
      /downloads/{key}:
        parameters: [{name: key, in: path, required: true, description: 'downloads/ORGANIZATION/IMAGE/FILE, each segment percent-encoded', schema: {type: string}}]
        get:
          summary: A published image's public copy on the local store, without credentials (as a public bucket serves it; Range honoured)
          security: []
          responses:
            '200': {description: The image, streamed}
            '206': {description: The requested range}
            '404': {$ref: '#/components/responses/Error'}
            '416': {$ref: '#/components/responses/Error'}
      /api/storage/uploads/{upload_id}/{part_number}:
        put:
          summary: Upload one part of an open multipart upload through a presigned URL of the local store (the only presigned write; refused once the upload is completed or aborted)
          security: []
          parameters:
            - {name: upload_id, in: path, required: true, schema: {type: string}}
            - {name: part_number, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 10000}}
            - {$ref: '#/components/parameters/Expires'}
            - {$ref: '#/components/parameters/Length'}
            - {$ref: '#/components/parameters/Signature'}
          requestBody: {required: true, content: {application/octet-stream: {schema: {type: string, format: binary}}}}
          responses:
            '200': {description: Stored; the ETag header names the part}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
      /openapi.yaml:
        get:
          summary: This document
          security: []
          responses:
            '200': {description: OpenAPI 3.1 YAML}

    """

    static let components = """
    components:
      securitySchemes:
        bearer: {type: http, scheme: bearer}
      parameters:
        OrgID: {name: org_id, in: path, required: true, schema: {type: string}}
        Expires: {name: expires, in: query, required: true, description: Unix time after which the URL is refused, schema: {type: integer}}
        Length: {name: length, in: query, description: The exact body length the URL accepts, schema: {type: integer}}
        Signature: {name: signature, in: query, required: true, description: 'HMAC-SHA256 of method, path, expiry and length', schema: {type: string}}
      responses:
        Error:
          description: Error
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
      schemas:
        Error:
          type: object
          required: [error]
          properties:
            error:
              type: object
              required: [code, message]
              properties:
                code: {type: string, description: 'Stable machine-readable code, e.g. invalid_token, not_found, email_taken'}
                message: {type: string}
                request_id: {type: string}
                violations:
                  type: array
                  description: The checks an image failed (code image_rejected)
                  items: {type: object, properties: {check: {type: string}, message: {type: string}}}
        Role: {type: string, enum: [superuser, admin, member, builder]}
        Permission: {type: string, enum: [image.read, image.upload, image.admin, build.trigger, build.read, logs.read, org.admin, token.manage, builder]}
        LoginRequest:
          type: object
          required: [email, password]
          properties: {email: {type: string}, password: {type: string, format: password}}
        LoginResponse:
          type: object
          properties: {token: {type: string}, expires_at: {type: string, format: date-time}, user: {$ref: '#/components/schemas/User'}}
        Organization:
          type: object
          properties: {id: {type: string}, name: {type: string}, created_at: {type: string, format: date-time}}
        OrganizationList: {type: object, properties: {items: {type: array, items: {$ref: '#/components/schemas/Organization'}}}}
        User:
          type: object
          properties:
            id: {type: string}
            organization_id: {type: [string, 'null']}
            email: {type: string}
            name: {type: string}
            role: {$ref: '#/components/schemas/Role'}
            kind: {type: string, enum: [human, service]}
            created_at: {type: string, format: date-time}
        UserList: {type: object, properties: {items: {type: array, items: {$ref: '#/components/schemas/User'}}}}
        CreateUserRequest:
          type: object
          required: [email, password, role]
          properties: {email: {type: string}, name: {type: string}, password: {type: string, minLength: 8}, role: {$ref: '#/components/schemas/Role'}}
        Me:
          type: object
          properties:
            user: {$ref: '#/components/schemas/User'}
            organization: {$ref: '#/components/schemas/Organization'}
            role: {$ref: '#/components/schemas/Role'}
            permissions: {type: array, items: {$ref: '#/components/schemas/Permission'}}
            token_id: {type: string}
        Session:
          type: object
          properties:
            user: {$ref: '#/components/schemas/User'}
            organization: {$ref: '#/components/schemas/Organization'}
            role: {$ref: '#/components/schemas/Role'}
            permissions: {type: array, items: {$ref: '#/components/schemas/Permission'}}
            csrf_token: {type: string, description: Only for a session made by cookie}
            expires_at: {type: string, format: date-time}
        Token:
          type: object
          properties:
            id: {type: string}
            name: {type: string}
            kind: {type: string, enum: [session, api]}
            prefix: {type: string}
            scopes: {type: [array, 'null'], items: {$ref: '#/components/schemas/Permission'}}
            expires_at: {type: [string, 'null'], format: date-time}
            revoked_at: {type: [string, 'null'], format: date-time}
            created_at: {type: string, format: date-time}
        TokenList: {type: object, properties: {items: {type: array, items: {$ref: '#/components/schemas/Token'}}}}
        CreateTokenRequest:
          type: object
          required: [name]
          properties:
            name: {type: string}
            scopes: {type: array, items: {$ref: '#/components/schemas/Permission'}}
            expires_at: {type: string, format: date-time}
            expires_in_seconds: {type: integer, minimum: 1}
        IssuedToken:
          type: object
          properties: {token: {type: string, description: Shown once}, api_token: {$ref: '#/components/schemas/Token'}}
        ServiceAccount:
          type: object
          properties: {service_account: {$ref: '#/components/schemas/User'}, token: {type: string, description: Shown once}}
        AuditEvent:
          type: object
          properties:
            id: {type: integer}
            organization_id: {type: [string, 'null']}
            actor_id: {type: [string, 'null']}
            action: {type: string}
            target: {type: [string, 'null']}
            details: {type: object, additionalProperties: {type: string}}
            created_at: {type: string, format: date-time}
        AuditList: {type: object, properties: {items: {type: array, items: {$ref: '#/components/schemas/AuditEvent'}}}}

    """
}
