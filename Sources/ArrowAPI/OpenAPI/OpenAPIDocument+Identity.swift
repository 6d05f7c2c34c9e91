import HTTPTypes
import Logging
extension OpenAPIDocument {
    static let header = """
    openapi: 3.1.0
    info:
      title: ARROW VM imaging API
      version: 0.1.0
      description: |
        Uploads, image collections, builds and builders of the ARROW VM imaging workflow.
        Authenticate with `Authorization: Bearer <token>` (from `POST /api/auth/login` or an API token).
        Every error is `{"error": {"code", "message", "request_id"}}` with a stable `code`.
    security:
      - bearer: []
    paths:

    """

    static let identityPaths = """
      /api/auth/login:
        post:
          summary: Exchange email and password for a session token
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/LoginRequest'}
          responses:
            '200': {description: Logged in, content: {application/json: {schema: {$ref: '#/components/schemas/LoginResponse'}}}}
            '401': {$ref: '#/components/responses/Error'}
      /api/auth/session:
        post:
          summary: "The console's sign-in: email and password for an HttpOnly, SameSite=Strict session cookie and its CSRF token"
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/LoginRequest'}
          responses:
            '201': {description: Signed in; the cookie is in Set-Cookie, content: {application/json: {schema: {$ref: '#/components/schemas/Session'}}}}
            '401': {$ref: '#/components/responses/Error'}
        get:
          summary: "Who is signed in, with the session's CSRF token (the console sends it as X-CSRF-Token on every state-changing request)"
          responses:
            '200': {description: The session, content: {application/json: {schema: {$ref: '#/components/schemas/Session'}}}}
            '401': {$ref: '#/components/responses/Error'}
        delete:
          summary: "Sign out: revokes the session and clears its cookie"
          responses:
            '204': {description: Signed out}
            '401': {$ref: '#/components/responses/Error'}
      /api/auth/logout:
        post:
          summary: Revoke the token this request was made with
          responses:
            '204': {description: Revoked}
            '401': {$ref: '#/components/responses/Error'}
      /api/me:
        get:
          summary: Who the token belongs to, with organization, role and effective permissions
          responses:
            '200': {description: The caller, content: {application/json: {schema: {$ref: '#/components/schemas/Me'}}}}
            '401': {$ref: '#/components/responses/Error'}
      /api/tokens:
        get:
          summary: The caller's tokens (never their secrets)
          responses:
            '200': {description: Tokens, content: {application/json: {schema: {$ref: '#/components/schemas/TokenList'}}}}
        post:
          summary: Create an API token for the caller; the secret is returned once
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CreateTokenRequest'}
          responses:
            '201': {description: Created, content: {application/json: {schema: {$ref: '#/components/schemas/IssuedToken'}}}}
            '422': {$ref: '#/components/responses/Error'}
      /api/tokens/{token_id}:
        delete:
          summary: Revoke a token (own tokens; org admins also tokens of their organization's users)
          parameters: [{name: token_id, in: path, required: true, schema: {type: string}}]
          responses:
            '200': {description: Revoked, content: {application/json: {schema: {$ref: '#/components/schemas/Token'}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations:
        get:
          summary: Organizations visible to the caller (all for a superuser)
          responses:
            '200': {description: Organizations, content: {application/json: {schema: {$ref: '#/components/schemas/OrganizationList'}}}}
        post:
          summary: Create an organization (superuser)
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object, required: [name], properties: {name: {type: string}}}
          responses:
            '201': {description: Created, content: {application/json: {schema: {$ref: '#/components/schemas/Organization'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}:
        get:
          summary: One organization
          parameters: [{$ref: '#/components/parameters/OrgID'}]
          responses:
            '200': {description: Organization, content: {application/json: {schema: {$ref: '#/components/schemas/Organization'}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/users:
        get:
          summary: Users of an organization (org.admin)
          parameters: [{$ref: '#/components/parameters/OrgID'}]
          responses:
            '200': {description: Users, content: {application/json: {schema: {$ref: '#/components/schemas/UserList'}}}}
        post:
          summary: Create a user (org.admin; only a superuser grants superuser)
          parameters: [{$ref: '#/components/parameters/OrgID'}]
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CreateUserRequest'}
          responses:
            '201': {description: Created, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/users/{user_id}:
        patch:
          summary: Change a user's role (org.admin)
          parameters: [{$ref: '#/components/parameters/OrgID'}, {name: user_id, in: path, required: true, schema: {type: string}}]
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object, required: [role], properties: {role: {$ref: '#/components/schemas/Role'}}}
          responses:
            '200': {description: Updated, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/service-accounts:
        post:
          summary: Create a builder service account and its token (org.admin)
          parameters: [{$ref: '#/components/parameters/OrgID'}]
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object, required: [name], properties: {name: {type: string}}}
          responses:
            '201': {description: Created, content: {application/json: {schema: {$ref: '#/components/schemas/ServiceAccount'}}}}
      /api/audit:
        get:
          summary: Audit log, newest first (org.admin; a superuser sees every organization)
          parameters: [{name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}]
          responses:
            '200': {description: Events, content: {application/json: {schema: {$ref: '#/components/schemas/AuditList'}}}}

    """
}
