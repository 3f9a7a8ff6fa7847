import Foundation
import HTTPTypes
import Hummingbird

/// Deploy form with dry-run preview, the deployments list, and the live deployment page (its
/// SSE stream is the API's, passed through with the session's key).
extension WebUI {
    static let stepNames = [
        "request", "submit", "render", "validate", "connect", "image", "profile", "placement", "create", "start", "cloud-init", "info", "done",
    ]
    static let fraction: [String: Int] = [
        "request": 2, "submit": 5, "render": 15, "accept": 18, "validate": 20, "connect": 25, "inspect": 30, "resume": 30, "image": 40, "profile": 45,
        "placement": 50, "create": 60, "start": 70, "cloud-init": 80, "info": 95, "done": 100,
    ]
    static let statuses = ["pending", "rendering", "queued", "in_progress", "completed", "failed", "cancelled", "timeout"]
    static let terminal: Set<String> = ["completed", "failed", "cancelled", "timeout"]

    func addDeployments(to root: RouterGroup<GatewayContext>) {
        root.get("deploy") { request, context in try await page(request, context) { v in try await deployPage(v, form: [:], preview: nil) } }
        root.post("deploy") { request, context in try await post(request, context, deploySubmit) }
        root.get("deployments") { request, context in try await page(request, context, deploymentList) }
        root.get("deployments/:id") { request, context in
            try await page(request, context) { v in
                let id = context.parameters.get("id") ?? ""
                if id.hasSuffix(".json") { return try await deploymentJSON(v, id: String(id.dropLast(5))) }
                return try await deploymentPage(v, id: id)
            }
        }
        root.get("deployments/:id/events") { request, context in
            try await page(request, context) { v in
                var headers = HTTPFields()
                if let last = request.headers[HTTPField.Name("Last-Event-ID")!] { headers[HTTPField.Name("Last-Event-ID")!] = last }
                let id = Self.escapePath(context.parameters.get("id") ?? "")
                let query = request.uri.query.map { "?" + $0 } ?? ""
                return try await api.send(.get, "deployments/\(id)/events\(query)", key: v.session.key, headers: headers, context: context)
            }
        }
        root.get("events") { request, context in
            try await page(request, context) { v in try await api.send(.get, "events", key: v.session.key, headers: [:], context: context) }
        }
        for action in ["cancel", "retry", "cleanup"] {
            root.post("deployments/:id/\(action)") { request, context in
                try await post(request, context) { v in
                    let id = context.parameters.get("id") ?? ""
                    let path = "deployments/\(Self.escapePath(id))/\(action)"
                    let a = try await call(v, action == "cleanup" ? .delete : .post, path)
                    guard a.ok else { return refused(a, v, back: "/iceshelves/deployments/\(Self.escapePath(id))") }
                    let next = (action == "retry" ? Self.dict(a.data)["deployment_id"] as? String : nil) ?? id
                    return WebPage.redirect("/iceshelves/deployments/\(Self.escapePath(next))")
                }
            }
        }
    }

    // MARK: Deploy

    func deployPage(
        _ v: Visit,
        form: [String: String],
        preview: [String: Any]?,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let eggsAnswer = try await call(v, .get, "eggs?per_page=100")
        let eggs = Self.list(Self.dict(eggsAnswer.data)["eggs"])
        let chosen = form["egg_id"] ?? v.query.text("egg") ?? eggs.first?["name"] as? String
        let clusters = Self.list(Self.dict(try await call(v, .get, "clusters").data)["clusters"])
        let chosenCluster = form["cluster_id"] ?? v.query.text("cluster")
        var data: [String: Any] = [
            "title": "Deploy", "form": form,
            "eggs": eggs.map { ["name": $0["name"] ?? "", "selected": ($0["name"] as? String) == chosen] },
            "clusters": clusters.map {
                ["id": $0["id"] ?? "", "name": $0["name"] ?? "", "status": $0["status"] ?? "", "selected": "\($0["id"] ?? "")" == chosenCluster]
            },
        ]
        if let error { data["error"] = error }
        if let chosen {
            let egg = try await call(v, .get, "eggs/\(Self.escapePath(chosen))")
            if egg.ok {
                data["egg"] = chosen
                var fields = Self.variables(fromMetadata: Self.dict(egg.data)["metadata_json"] as? String)
                for i in fields.indices {
                    if let posted = form["var." + (fields[i]["name"] as? String ?? "")] {
                        fields[i]["defaultText"] = posted
                        fields[i]["defaultTrue"] = posted == "true"
                    }
                }
                data["variables"] = fields
            }
        }
        if let preview {
            data["preview"] = true
            data["userData"] = HTMLText.highlightYAML(preview["user_data"] as? String ?? "")
            if let t = preview["target_request"], let text = try? JSONSerialization.data(withJSONObject: t, options: [.prettyPrinted, .sortedKeys]) {
                data["targetRequest"] = String(decoding: text, as: UTF8.self)
            }
        }
        return render("deploy", data, v.session, status: status)
    }

    func deploySubmit(_ v: Visit) async throws -> Response {
        let egg = v.form.text("egg_id") ?? ""
        let declared = Self.list(
            (try? JSONSerialization.jsonObject(
                with: Data((Self.dict(try await call(v, .get, "eggs/\(Self.escapePath(egg))").data)["metadata_json"] as? String ?? "{}").utf8)
            ) as? [String: Any])?["variables"]
        )
        var body: [String: Any] = ["egg_id": egg, "cluster_id": v.form.text("cluster_id") ?? "", "instance_name": v.form.text("instance_name") ?? ""]
        for name in ["target_member", "image", "cloud_config"] { if let t = v.form.text(name) { body[name] = t } }
        if let count = v.form.text("count").flatMap(Int.init), count > 1 {
            body["count"] = count
            body["name_pattern"] = body["instance_name"]
            body["instance_name"] = nil
        }
        let variables = Self.typedVariables(v.form, declared: declared)
        if !variables.isEmpty { body["variables"] = variables }
        let dryRun = v.form["action"] == "dry_run"
        let a = try await call(v, .post, dryRun ? "deploy?dry_run=true" : "deploy", json: body)
        var kept: [String: String] = [:]
        for (k, value) in v.form.pairs where k != "_csrf" { kept[k] = value }
        guard a.ok else {
            if a.status == 403 { return refused(a, v, back: "/iceshelves/deploy") }
            return try await deployPage(v, form: kept, preview: nil, error: a.error ?? "HTTP \(a.status)", status: .init(code: a.status))
        }
        if dryRun { return try await deployPage(v, form: kept, preview: Self.dict(a.data)) }
        let id = Self.dict(a.data)["deployment_id"] as? String ?? ""
        return WebPage.redirect("/iceshelves/deployments/\(Self.escapePath(id))")
    }

    // MARK: Deployments

    func deploymentList(_ v: Visit) async throws -> Response {
        let status = v.query.text("status")
        let cluster = v.query.text("cluster_id")
        let egg = v.query.text("egg_id")
        let params: [(String, String?)] = [("status", status), ("cluster_id", cluster), ("egg_id", egg)]
        let a = try await call(v, .get, "deployments?" + Self.query(params + [("page", v.query.text("page") ?? "1"), ("per_page", "50")]))
        guard a.ok else { return refused(a, v, back: "/iceshelves/deployments") }
        let data = Self.dict(a.data)
        let deployments = Self.list(data["deployments"])
        let clusters = Self.list(Self.dict(try await call(v, .get, "clusters").data)["clusters"])
        var out: [String: Any] = [
            "title": "Deployments", "deployments": deployments, "hasDeployments": !deployments.isEmpty, "egg": egg ?? "",
            "statuses": Self.statuses.map { ["value": $0, "selected": $0 == status] },
            "clusters": clusters.map { ["id": $0["id"] ?? "", "name": $0["name"] ?? "", "selected": "\($0["id"] ?? "")" == cluster] },
        ]
        out.merge(Self.pager(data, base: "/iceshelves/deployments", params: params)) { $1 }
        return render("deployments", out, v.session)
    }

    func deploymentPage(_ v: Visit, id: String) async throws -> Response {
        let a = try await call(v, .get, "deployments/\(Self.escapePath(id))")
        guard a.ok else { return refused(a, v, back: "/iceshelves/deployments") }
        let d = Self.dict(a.data)
        let status = d["status"] as? String ?? "pending"
        let logs = Self.list(d["logs"])
        let seenSteps = Set(logs.compactMap { $0["step"] as? String })
        let failedSteps = Set(logs.filter { ($0["level"] as? String) == "ERROR" }.compactMap { $0["step"] as? String })
        let best = Self.terminal.contains(status) ? 100 : seenSteps.compactMap { Self.fraction[$0] }.max() ?? 0
        let info = Self.dict(d["instance_info"]).map { ["key": $0.key, "value": "\($0.value)"] }.sorted { $0["key"]! < $1["key"]! }
        let cluster = Self.dict(d["cluster"])
        return render(
            "deployment",
            [
                "title": "Deployment \(d["instance_name"] as? String ?? id)", "d": d, "percent": best, "logs": logs, "info": info,
                "clusterName": cluster["name"] ?? d["cluster_id"] ?? "",
                "steps": Self.stepNames.map { step -> [String: Any] in
                    let cls = failedSteps.contains(step) ? "failed" : seenSteps.contains(step) ? "seen" : nil
                    return cls.map { ["name": step, "cls": $0] } ?? ["name": step]
                },
                "active": !Self.terminal.contains(status), "retryable": ["failed", "cancelled", "timeout"].contains(status),
                "finished": Self.terminal.contains(status),
            ],
            v.session
        )
    }

    /// The deployment as JSON for the page's script (cookie session, no key in the browser).
    func deploymentJSON(_ v: Visit, id: String) async throws -> Response {
        let response = try await api.send(.get, "deployments/\(Self.escapePath(id))", key: v.session.key, headers: [:], context: v.context)
        var out = response
        WebPage.secure(&out.headers)
        return out
    }
}
