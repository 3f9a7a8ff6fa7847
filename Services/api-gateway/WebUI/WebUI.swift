import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The web UI at `/iceshelves/`: server-rendered pages (Mustache) over the REST API, which it
/// calls in process with the session's key (``InProcessAPI``), so roles and validation are the
/// API's own. Pages are in `WebUI+*.swift`, templates in `Templates/`, CSS and JS in `Assets.swift`.
struct WebUI: Sendable {
    let gateway: Gateway
    let sessions = WebSessions()
    let api = InProcessAPI()
    let library: MustacheLibrary

    init(gateway: Gateway) {
        self.gateway = gateway
        // The templates are constants in this binary; a broken one is a programming error the tests catch.
        library = (try? WebTemplates.library()) ?? MustacheLibrary()
    }

    /// What a page handler gets: the request, its context, the session and the posted form.
    struct Visit {
        var request: Request
        var context: GatewayContext
        var session: WebSessions.Session
        var form = FormData("")
        var query: FormData
    }

    func add(to root: RouterGroup<GatewayContext>) {
        root.get("static/app.css") { _, _ in WebPage.asset(Assets.css, type: "text/css; charset=utf-8") }
        root.get("static/app.js") { _, _ in WebPage.asset(Assets.js, type: "text/javascript; charset=utf-8") }
        root.get("login") { request, _ in loginPage(request, error: nil) }
        root.post("login") { request, context in try await login(request, context) }
        root.post("logout") { request, context in
            try await post(request, context) { v in
                sessions.remove(WebPage.cookie(WebSessions.cookie, in: v.request))
                return WebPage.redirect("/iceshelves/login", cookies: [WebPage.clearSession])
            }
        }
        root.get("") { request, context in try await page(request, context, dashboard) }
        addEggs(to: root)
        addClusters(to: root)
        addWarmPools(to: root)
        addDeployments(to: root)
    }

    // MARK: Sessions, CSRF and rendering

    /// A GET page: the session, or the login page.
    func page(_ request: Request, _ context: GatewayContext, _ body: (Visit) async throws -> Response) async throws -> Response {
        guard let session = sessions.get(WebPage.cookie(WebSessions.cookie, in: request)) else {
            return WebPage.redirect("/iceshelves/login")
        }
        return try await body(Visit(request: request, context: context, session: session, query: FormData(request.uri.query ?? "")))
    }

    /// A form POST: the session, and the session's CSRF token in `_csrf` (or `X-CSRF-Token`), else 403.
    func post(
        _ request: Request,
        _ context: GatewayContext,
        raw: Bool = false,
        _ body: (Visit) async throws -> Response
    ) async throws -> Response {
        var request = request
        guard let session = sessions.get(WebPage.cookie(WebSessions.cookie, in: request)) else {
            return WebPage.redirect("/iceshelves/login")
        }
        var form = FormData("")
        if !raw {
            let bytes = try await request.collectBody(upTo: gateway.settings.maxBodyBytes)
            form = FormData(String(buffer: bytes))
        }
        let presented = request.headers[HTTPField.Name("X-CSRF-Token")!] ?? form["_csrf"] ?? ""
        guard KeyStore.constantTimeEqual(Array(presented.utf8), Array(session.csrf.utf8)) else {
            return render(
                "message",
                [
                    "title": "Refused", "detail": "This form is missing its security token (CSRF). Reload the page and try again.",
                    "back": "/iceshelves/",
                ],
                session,
                status: .forbidden
            )
        }
        return try await body(Visit(request: request, context: context, session: session, form: form, query: FormData(request.uri.query ?? "")))
    }

    /// Renders a page inside the layout, with what every page shows (who is logged in, which actions the role allows).
    func render(_ template: String, _ data: [String: Any], _ session: WebSessions.Session?, status: HTTPResponse.Status = .ok) -> Response {
        var all = data
        if let session {
            all["user"] = ["name": session.name, "role": session.role.rawValue]
            all["csrf"] = session.csrf
            all["canDeploy"] = session.role >= .operator
            all["isAdmin"] = session.role >= .admin
        }
        return WebPage.html(library.render(all, withTemplate: template) ?? "template \(template) failed", status: status)
    }

    /// The API's refusal as a page, with its status and message.
    func refused(_ answer: InProcessAPI.Answer, _ v: Visit, back: String) -> Response {
        let title =
            switch answer.status {
            case 403: "Not allowed"
            case 404: "Not found"
            case 400, 409, 413, 429: "Refused"
            default: "Something went wrong"
            }
        return render(
            "message",
            ["title": title, "detail": answer.error ?? "HTTP \(answer.status)", "back": back],
            v.session,
            status: HTTPResponse.Status(code: answer.status)
        )
    }

    /// A JSON call for a page.
    func call(
        _ v: Visit,
        _ method: HTTPRequest.Method,
        _ path: String,
        json: [String: Any]? = nil
    ) async throws -> InProcessAPI.Answer {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        return try await api.call(method, path, key: v.session.key, body: body, context: v.context)
    }

    // MARK: Login

    func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = KeyStore.base64url(KeyStore.random(24))
        var data: [String: Any] = ["title": "Log in", "csrf": token]
        if let error { data["error"] = error }
        let cookie = "\(WebPage.loginCookie)=\(token); Path=/iceshelves/login; HttpOnly; SameSite=Strict; Max-Age=3600"
        return WebPage.html(library.render(data, withTemplate: "login") ?? "", status: status, cookies: [cookie])
    }

    /// Checks the pasted key with the key store and starts a session. The login form is
    /// protected by a double-submit token (a cookie and a field that must match).
    func login(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let form = FormData(String(buffer: try await request.collectBody(upTo: 16 << 10)))
        let expected = WebPage.cookie(WebPage.loginCookie, in: request) ?? ""
        guard !expected.isEmpty, KeyStore.constantTimeEqual(Array((form["_csrf"] ?? "").utf8), Array(expected.utf8)) else {
            return loginPage(request, error: "The login form expired or lacks its security token. Try again.", status: .forbidden)
        }
        let key = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard key.utf8.count <= 256, let identity = try await gateway.keys.verify(key) else {
            return loginPage(request, error: "That key is not valid.", status: .unauthorized)
        }
        let (id, _) = sessions.create(key: key, identity: identity)
        let https = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        return WebPage.redirect("/iceshelves/", cookies: [WebPage.sessionCookie(id, secure: https)])
    }

    // MARK: Dashboard

    func dashboard(_ v: Visit) async throws -> Response {
        async let eggs = call(v, .get, "eggs?per_page=1")
        async let clusters = call(v, .get, "clusters")
        async let latest = call(v, .get, "deployments?per_page=10")
        var states: [[String: Any]] = []
        for s in ["pending", "rendering", "queued", "in_progress", "completed", "failed", "cancelled", "timeout"] {
            let a = try await call(v, .get, "deployments?per_page=1&status=\(s)")
            states.append(["state": s, "label": s.replacingOccurrences(of: "_", with: " "), "count": Self.dict(a.data)["total"] ?? 0])
        }
        let clusterList = Self.list(Self.dict(try await clusters.data)["clusters"])
        let deployments = Self.list(Self.dict(try await latest.data)["deployments"])
        return render(
            "dashboard",
            [
                "title": "Dashboard", "eggCount": Self.dict(try await eggs.data)["total"] ?? 0, "clusterCount": clusterList.count,
                "states": states, "clusters": clusterList, "hasClusters": !clusterList.isEmpty, "deployments": deployments,
                "hasDeployments": !deployments.isEmpty,
            ],
            v.session
        )
    }

    // MARK: JSON helpers

    /// A JSON object with its nulls dropped (Mustache would take a null as a value).
    static func dict(_ any: Any?) -> [String: Any] {
        guard let d = any as? [String: Any] else { return [:] }
        return d.filter { !($0.value is NSNull) }.mapValues { v in
            if let inner = v as? [String: Any] { return dict(inner) }
            if let arr = v as? [Any] { return arr.map { ($0 as? [String: Any]).map(dict) ?? $0 } }
            return v
        }
    }

    static func list(_ any: Any?) -> [[String: Any]] { (any as? [Any] ?? []).map(dict) }

    static func escapePath(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_."))) ?? ""
    }

    static func query(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { k, v in
            guard let v, !v.isEmpty else { return nil }
            return k + "=" + (v.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_.~"))) ?? "")
        }.joined(separator: "&")
    }

    /// Previous and next links for a paged list.
    static func pager(_ data: [String: Any], base: String, params: [(String, String?)]) -> [String: Any] {
        let page = data["page"] as? Int ?? 1
        let totalPages = max(data["total_pages"] as? Int ?? 1, 1)
        func link(_ p: Int) -> String { base + "?" + query(params + [("page", String(p))]) }
        var out: [String: Any] = ["page": page, "totalPages": totalPages, "total": data["total"] ?? 0]
        if page > 1 { out["prev"] = link(page - 1) }
        if page < totalPages { out["next"] = link(page + 1) }
        return out
    }
}
