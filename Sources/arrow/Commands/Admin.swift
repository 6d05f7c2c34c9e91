import ArgumentParser
import ArrowApp
import ArrowCore
import Foundation
import Logging

extension ArrowCommand {
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bootstrap administration directly on the configured database (no server or token needed).",
            discussion: """
                Use these for the first superuser (`admin init`), or when no one can log in any more. For everyday \
                administration use the API with a token. They read the same configuration as `arrow serve` \
                (flags, ARROW_* environment, config file), so point them at the same data directory or database.
                """,
            subcommands: [Init.self, Org.self, User.self, Token.self, ServiceAccount.self])
    }
}

/// Opens the configured backends for an admin command, runs `body`, and reports failures with a stable code.
func withAdmin(_ global: GlobalOptions, _ body: (AdminOperations) async throws -> Void) async throws {
    let config = try await global.load()
    var logger = Logger(label: "arrow.admin")
    logger.logLevel = .warning
    try await reporting { try await Backends.using(config, logger: logger) { try await body(AdminOperations(backends: $0)) } }
}

/// Reads a password from `--password`, or from standard input with `--password-stdin` (keeps it out of `ps`).
struct PasswordOptions: ParsableArguments {
    @Option(help: "The password (visible in the process list; prefer --password-stdin).")
    var password: String?

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    func validate() throws {
        if (password == nil) == !passwordStdin {
            throw ValidationError("Give exactly one of --password or --password-stdin")
        }
    }

    func resolve() throws -> String {
        if let password { return password }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("No password on standard input")
        }
        return line
    }
}

extension ArrowCommand.Admin {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the first organization and superuser; prints a token alone on the last line.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "The superuser's email.") var email: String
        @OptionGroup var password: PasswordOptions
        @Option(help: "Name of the first organization.") var organization = "default"

        func run() async throws {
            let password = try self.password.resolve()
            try await withAdmin(global) { admin in
                let (org, user, issued) = try await admin.initialize(email: email, password: password, organizationName: organization)
                print("organization: \(org.name) (\(org.id))")
                print("superuser: \(user.email) (\(user.id))")
                print("token (shown once):")
                print(issued.secret)
            }
        }
    }

    struct Org: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Organizations.", subcommands: [Create.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an organization; prints its id.")
            @OptionGroup var global: GlobalOptions
            @Option(help: "The organization's name (unique).") var name: String

            func run() async throws {
                try await withAdmin(global) { admin in
                    let org = try await admin.createOrganization(name: name)
                    print(org.id)
                }
            }
        }
    }

    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Users.", subcommands: [Create.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a user; prints its id.")
            @OptionGroup var global: GlobalOptions
            @Option(help: "Organization id or name.") var org: String
            @Option(help: "Email (the login).") var email: String
            @OptionGroup var password: PasswordOptions
            @Option(help: "superuser, admin or member.") var role = "member"

            func run() async throws {
                guard let role = Role(rawValue: role), Role.userRoles.contains(role) else {
                    throw ValidationError("--role must be superuser, admin or member")
                }
                let password = try self.password.resolve()
                try await withAdmin(global) { admin in
                    print(try await admin.createUser(organization: org, email: email, password: password, role: role).id)
                }
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "API tokens.", subcommands: [Create.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an API token for a user; prints it alone on the last line.")
            @OptionGroup var global: GlobalOptions
            @Option(help: "The owner's email.") var user: String
            @Option(help: "A name to recognise the token by.") var name = "cli"
            @Option(help: "Limit the token to these permissions (repeatable), e.g. image.read.") var scope: [String] = []
            @Option(help: "Expire after this many seconds.") var expiresIn: Int?

            func run() async throws {
                let scopes = try scope.isEmpty ? nil : Set(scope.map { name in
                    guard let permission = Permission(rawValue: name) else { throw ValidationError("Unknown permission \(name)") }
                    return permission
                })
                try await withAdmin(global) { admin in
                    let issued = try await admin.createToken(email: user, name: name, scopes: scopes, expiresIn: expiresIn.map(TimeInterval.init))
                    print("token id: \(issued.token.id)")
                    print(issued.secret)
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token by id.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The token id.") var id: String

            func run() async throws {
                try await withAdmin(global) { admin in
                    let token = try await admin.revokeToken(id: id)
                    print("revoked \(token.id)")
                }
            }
        }
    }

    struct ServiceAccount: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "service-account", abstract: "Builder service accounts.", subcommands: [Create.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a builder service account; prints its token alone on the last line.")
            @OptionGroup var global: GlobalOptions
            @Option(help: "A name for the account.") var name: String
            @Option(help: "Restrict it to one organization (id or name); default: every organization.") var org: String?

            func run() async throws {
                try await withAdmin(global) { admin in
                    let (account, issued) = try await admin.createServiceAccount(name: name, organization: org)
                    print("service account: \(account.name) (\(account.id))")
                    print(issued.secret)
                }
            }
        }
    }
}
