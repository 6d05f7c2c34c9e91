import Hummingbird

// `/api/me` is the call every client and script makes first and most often: its body is written by hand
// (``JSONWriter``) instead of through Codable, which cost about a tenth of the request's CPU. The keys here are the
// snake_case of the DTOs' properties; `MeResponseJSONTests` fails when the two encodings differ.

extension MeResponse {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONWriter()
        writer.object { $0.write(self) }
        assert(APIResponseEncoder.agree(writer.bytes, self), "MeResponse's hand-written JSON differs from its Codable form")
        return APIResponseEncoder.response(writer.bytes)
    }
}

extension JSONWriter {
    mutating func write(_ me: MeResponse) {
        member("user", me.user) { user, writer in writer.object { $0.write(user) } }
        member("organization", me.organization) { organization, writer in writer.object { $0.write(organization) } }
        member("role", me.role)
        member("permissions", me.permissions)
        member("token_id", me.tokenId)
    }

    mutating func write(_ user: UserDTO) {
        member("id", user.id)
        member("organization_id", user.organizationId)
        member("email", user.email)
        member("name", user.name)
        member("role", user.role)
        member("kind", user.kind)
        member("created_at", user.createdAt)
    }

    mutating func write(_ organization: OrganizationDTO) {
        member("id", organization.id)
        member("name", organization.name)
        member("created_at", organization.createdAt)
    }
}
