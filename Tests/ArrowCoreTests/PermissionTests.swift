import ArrowCore
import Foundation
import Testing

@Suite struct PermissionTests {
    @Test func roleTableMatchesTheDocumentedTable() {
        #expect(Role.superuser.permissions == Set(Permission.allCases))
        #expect(Role.admin.permissions == [.imageRead, .imageUpload, .imageAdmin, .buildTrigger, .buildRead, .logsRead, .orgAdmin, .tokenManage])
        #expect(Role.member.permissions == [.imageRead, .buildRead, .logsRead, .tokenManage])
        #expect(Role.builder.permissions == [.builder])
    }

    @Test func membersHoldNoWritePermission() {
        let writes: Set<Permission> = [.imageUpload, .imageAdmin, .buildTrigger, .orgAdmin, .builder]
        #expect(Role.member.permissions.isDisjoint(with: writes))
    }

    @Test func scopeOfEachKindOfPrincipal() {
        let org = OrganizationID("o1")
        func principal(_ role: Role, org: OrganizationID?, kind: User.Kind = .human) -> Principal {
            let user = User(organizationID: org, email: "x@y.z", name: "x", role: role, kind: kind, passwordHash: nil, createdAt: Date())
            return Principal(user: user, tokenID: TokenID("t"), permissions: role.permissions)
        }
        #expect(principal(.superuser, org: org).scope == .all)
        #expect(principal(.admin, org: org).scope == .organization(org))
        #expect(principal(.builder, org: nil, kind: .service).scope == .all)
        #expect(principal(.builder, org: org, kind: .service).scope == .organization(org))
        #expect(principal(.member, org: nil).scope == AccessScope.none)
    }

    @Test func requireThrowsForbiddenWithStableReason() throws {
        let user = User(organizationID: nil, email: "x@y.z", name: "x", role: .member, passwordHash: nil, createdAt: Date())
        let principal = Principal(user: user, tokenID: TokenID("t"), permissions: Role.member.permissions)
        let error = #expect(throws: ArrowError.self) { try principal.require(.imageUpload) }
        #expect(error?.code == .forbidden)
        #expect(error?.publicCode == "missing_permission")
        #expect(throws: Never.self) { try principal.require(.imageRead) }
    }

    @Test func accessScopeIncludes() {
        #expect(AccessScope.all.includes(OrganizationID("a")))
        #expect(AccessScope.organization(OrganizationID("a")).includes(OrganizationID("a")))
        #expect(!AccessScope.organization(OrganizationID("a")).includes(OrganizationID("b")))
        #expect(!AccessScope.organization(OrganizationID("a")).includes(nil))
        #expect(!AccessScope.none.includes(OrganizationID("a")))
    }

    @Test func tokenActivity() {
        let now = Date()
        var token = APIToken(userID: UserID("u"), name: "n", kind: .api, digest: "d", prefix: "p", scopes: nil,
                             expiresAt: now.addingTimeInterval(10), createdAt: now)
        #expect(token.isActive(at: now))
        #expect(!token.isActive(at: now.addingTimeInterval(11)))
        token.revokedAt = now
        #expect(!token.isActive(at: now))
    }

    @Test func identifiersAreDistinctAndCodeAsStrings() throws {
        let a = OrganizationID.generate()
        #expect(a != OrganizationID.generate())
        #expect(a.rawValue.count == 36)
        let json = try JSONEncoder().encode([a])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(a.rawValue)\"]")
    }
}
