import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The console's session: a login token carried in an `HttpOnly`, `SameSite=Strict` cookie instead of a bearer header,
/// plus the CSRF rule for requests that ride on that cookie.
///
/// The CSRF token is derived from the session secret (HMAC-SHA256 keyed by it), so the server keeps no extra state and
/// a page can fetch it again after a reload; a cross-site page can neither read the cookie nor compute the token.
public enum ConsoleSession {
    public static let cookieName = "arrow_session"
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// The session secret from a `Cookie` header (`name=value` pairs separated by `;`), if the cookie is present.
    public static func secret(fromCookieHeader header: String) -> String? {
        for pair in header.split(separator: ";") {
            let trimmed = pair.drop(while: { $0 == " " || $0 == "\t" })
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            guard trimmed[..<equals] == Substring(cookieName) else { continue }
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// The CSRF token that goes with a session secret.
    public static func csrfToken(for secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("arrow-console-csrf".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether `presented` is the session's CSRF token, compared in constant time.
    public static func csrfMatches(_ presented: String?, secret: String) -> Bool {
        guard let presented else { return false }
        let expected = Array(csrfToken(for: secret).utf8)
        let given = Array(presented.utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= expected[index] ^ given[index] }
        return difference == 0
    }

    /// Methods that change nothing, which need no CSRF token.
    public static func isSafe(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }

    /// `Set-Cookie` for a new session; `Secure` when the console is reached over TLS.
    public static func setCookie(secret: String, maxAge: Int, secure: Bool) -> String {
        "\(cookieName)=\(secret); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that removes the session cookie.
    public static func clearCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Whether the client reached us over TLS: the configured public URL is `https`, or the TLS-terminating proxy in
    /// front says so.
    static func isSecure(_ request: Request, publicURLIsHTTPS: Bool) -> Bool {
        publicURLIsHTTPS || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }
}
