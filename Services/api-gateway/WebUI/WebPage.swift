import Foundation
import HTTPTypes
import Hummingbird

/// HTML responses with the headers every page carries: `Content-Security-Policy: default-src
/// 'self'` (no inline script or style, nothing from another host), no framing, no sniffing, no
/// referrer, no caching of pages that show a key's data.
enum WebPage {
    static let csp = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

    static func html(_ body: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        secure(&headers)
        headers[.cacheControl] = "no-store"
        for c in cookies { headers.append(.init(name: .setCookie, value: c)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        secure(&headers)
        headers[.cacheControl] = "no-store"
        for c in cookies { headers.append(.init(name: .setCookie, value: c)) }
        return Response(status: .seeOther, headers: headers)
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        secure(&headers)
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = csp
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
    }

    /// The session cookie: HttpOnly, SameSite=Strict, only under /iceshelves.
    static func sessionCookie(_ id: String, secure: Bool) -> String {
        "\(WebSessions.cookie)=\(id); Path=/iceshelves; HttpOnly; SameSite=Strict; Max-Age=\(Int(WebSessions.lifetime))" + (secure ? "; Secure" : "")
    }

    static let clearSession = "\(WebSessions.cookie)=; Path=/iceshelves; HttpOnly; SameSite=Strict; Max-Age=0"
    static let loginCookie = "iceshelves_login"

    /// A cookie's value from the `Cookie` header.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }
}
