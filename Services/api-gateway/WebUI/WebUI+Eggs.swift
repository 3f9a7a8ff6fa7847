import Foundation
import Hummingbird

/// Egg pages: list with filters, detail (versions, highlighted cloud-init, safe README), create
/// from a template with typed inputs, upload.
extension WebUI {
    func addEggs(to root: RouterGroup<GatewayContext>) {
        root.get("eggs") { request, context in try await page(request, context, eggList) }
        root.get("eggs/new") { request, context in try await page(request, context, eggNewPage) }
        root.post("eggs/new") { request, context in try await post(request, context, eggCreate) }
        root.get("eggs/upload") { request, context in
            try await page(request, context) { v in render("eggUpload", ["title": "Upload an egg"], v.session) }
        }
        root.post("eggs/upload") { request, context in try await post(request, context, raw: true, eggUpload) }
        root.get("eggs/:name") { request, context in
            try await page(request, context) { v in try await eggPage(v, name: context.parameters.get("name") ?? "") }
        }
    }

    func eggList(_ v: Visit) async throws -> Response {
        let search = v.query.text("search")
        let category = v.query.text("category")
        let page = v.query.text("page") ?? "1"
        let params: [(String, String?)] = [("search", search), ("category", category)]
        let a = try await call(v, .get, "eggs?" + Self.query(params + [("page", page), ("per_page", "50")]))
        guard a.ok else { return refused(a, v, back: "/iceshelves/eggs") }
        let data = Self.dict(a.data)
        let eggs = Self.list(data["eggs"])
        let all = try await call(v, .get, "eggs?per_page=100")
        let categories = Set(Self.list(Self.dict(all.data)["eggs"]).compactMap { $0["category"] as? String }).sorted()
        var out: [String: Any] = [
            "title": "Eggs", "eggs": eggs, "hasEggs": !eggs.isEmpty, "search": search ?? "",
            "categories": categories.map { ["name": $0, "selected": $0 == category] },
        ]
        out.merge(Self.pager(data, base: "/iceshelves/eggs", params: params)) { $1 }
        return render("eggs", out, v.session)
    }

    func eggPage(_ v: Visit, name: String) async throws -> Response {
        let a = try await call(v, .get, "eggs/\(Self.escapePath(name))")
        guard a.ok else { return refused(a, v, back: "/iceshelves/eggs") }
        let egg = Self.dict(a.data)
        let files = egg["files"] as? [String: Any] ?? [:]
        let versions = try await call(v, .get, "eggs/\(Self.escapePath(name))/versions")
        let deployments = try await call(v, .get, "deployments?per_page=10&egg_id=\(Self.escapePath(egg["name"] as? String ?? name))")
        let variables = Self.variables(fromMetadata: egg["metadata_json"] as? String)
        let versionList = Self.list(Self.dict(versions.data)["versions"] ?? versions.data)
        let recent = Self.list(Self.dict(deployments.data)["deployments"])
        var data: [String: Any] = [
            "title": egg["name"] as? String ?? name, "egg": egg, "versions": versionList,
            "cloudInit": HTMLText.highlightYAML(files["cloud_init"] as? String ?? ""),
            "variables": variables, "hasVariables": !variables.isEmpty,
            "deployments": recent, "hasDeployments": !recent.isEmpty,
        ]
        if let readme = files["readme"] as? String, !readme.isEmpty { data["readme"] = HTMLText.markdown(readme) }
        return render("egg", data, v.session)
    }

    func eggNewPage(_ v: Visit) async throws -> Response {
        let a = try await call(v, .get, "templates")
        guard a.ok else { return refused(a, v, back: "/iceshelves/eggs") }
        let templates = Self.list(Self.dict(a.data)["templates"] ?? a.data)
        let chosen = v.query.text("template") ?? templates.first?["name"] as? String
        let template = templates.first { $0["name"] as? String == chosen }
        var data: [String: Any] = [
            "title": "Create an egg",
            "templates": templates.map { ["name": $0["name"] ?? "", "selected": ($0["name"] as? String) == chosen] },
        ]
        if let template {
            data["template"] = template
            data["variables"] = Self.variableFields(Self.list(template["variables"]))
        }
        return render("eggNew", data, v.session)
    }

    func eggCreate(_ v: Visit) async throws -> Response {
        let templateName = v.form.text("template_id") ?? ""
        let templates = Self.list(Self.dict(try await call(v, .get, "templates").data)["templates"])
        let declared = Self.list(templates.first { $0["name"] as? String == templateName }?["variables"])
        var body: [String: Any] = ["name": v.form.text("name") ?? "", "template_id": templateName]
        if let d = v.form.text("description") { body["description"] = d }
        body["variables"] = Self.typedVariables(v.form, declared: declared)
        let a = try await call(v, .post, "eggs", json: body)
        guard a.ok else { return refused(a, v, back: "/iceshelves/eggs/new?template=\(Self.escapePath(templateName))") }
        let name = (Self.dict(a.data)["name"] as? String) ?? (v.form.text("name") ?? "")
        return WebPage.redirect("/iceshelves/eggs/\(Self.escapePath(name))")
    }

    /// The JS posts the file itself with `X-CSRF-Token`; the answer is the API's JSON.
    func eggUpload(_ v: Visit) async throws -> Response {
        var request = v.request
        let bytes = try await request.collectBody(upTo: gateway.settings.maxUploadBytes)
        let a = try await api.call(
            .post,
            "eggs/upload",
            key: v.session.key,
            body: Data(buffer: bytes),
            contentType: "application/gzip",
            context: v.context
        )
        var data = Self.dict(a.data)
        if !a.ok { data = ["error": a.error ?? "HTTP \(a.status)"] }
        let json = (try? JSONSerialization.data(withJSONObject: data)) ?? Data("{}".utf8)
        var response = Response(status: .init(code: a.status), body: .init(byteBuffer: ByteBuffer(bytes: json)))
        response.headers[.contentType] = "application/json"
        WebPage.secure(&response.headers)
        return response
    }

    // MARK: Variables

    /// The declared variables in an egg's `metadata_json`.
    static func variables(fromMetadata text: String?) -> [[String: Any]] {
        guard let text, let meta = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [] }
        return variableFields(list(meta["variables"]))
    }

    /// Form fields for declared variables: the input kind, default and pattern per type.
    static func variableFields(_ declared: [[String: Any]]) -> [[String: Any]] {
        declared.map { v in
            let type = v["type"] as? String ?? "string"
            let allowed = v["allowed"] as? [String]
            let def = v["default"]
            let defaultText: String =
                switch def {
                case let s as String: s
                case let l as [String]: l.joined(separator: "\n")
                case let n as NSNumber where type == "boolean": n.boolValue ? "true" : "false"
                case let n as NSNumber: n.stringValue
                case let b as Bool: b ? "true" : "false"
                default: ""
                }
            var out: [String: Any] = [
                "name": v["name"] as? String ?? "", "type": type, "description": v["description"] as? String ?? "",
                "required": (v["required"] as? Bool) == true || (v["required"] as? NSNumber)?.boolValue == true,
                "defaultText": defaultText, "defaultTrue": defaultText == "true",
                "isBoolean": type == "boolean", "isInteger": type == "integer", "isList": type == "list",
                "isChoice": allowed != nil && type == "string", "isText": allowed == nil && type == "string",
            ]
            if let p = v["pattern"] as? String { out["pattern"] = p }
            if let allowed { out["allowedOptions"] = allowed.map { ["value": $0, "selected": $0 == defaultText] } }
            return out
        }
    }

    /// `var.NAME` fields typed as the egg declares them; an empty optional field is left out.
    static func typedVariables(_ form: FormData, declared: [[String: Any]]) -> [String: Any] {
        var types: [String: String] = [:]
        for d in declared { if let n = d["name"] as? String { types[n] = d["type"] as? String ?? "string" } }
        var out: [String: Any] = [:]
        for (name, value) in form.group("var") {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            switch types[name] {
            case "integer": out[name] = Int(trimmed) ?? trimmed  // a non-number goes through, for the API's own message
            case "boolean": out[name] = trimmed == "true"
            case "list": out[name] = trimmed.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            default: out[name] = value.replacingOccurrences(of: "\r\n", with: "\n")
            }
        }
        return out
    }
}
