import Foundation
import HTTPTypes
import Hummingbird

/// Cluster pages: list with health, add (a form per connection method, KVM through libvirt among
/// them; agent-poll shows its key once, with the agent-broker's URL), test, detail with members and
/// resources, remove.
extension WebUI {
    static let methods: [(String, String)] = [
        ("direct-api", "LXD HTTPS API (direct-api)"), ("ssh", "SSH tunnel to LXD's socket (ssh)"),
        ("unix-socket", "LXD socket on this host (unix-socket)"), ("agent-poll", "Agent on the cluster polls us (agent-poll)"),
        ("libvirt", "KVM through libvirt (libvirt)"),
    ]

    func addClusters(to root: RouterGroup<GatewayContext>) {
        root.get("clusters") { request, context in
            try await page(request, context) { v in
                let a = try await call(v, .get, "clusters")
                guard a.ok else { return refused(a, v, back: "/iceshelves/") }
                let clusters = Self.list(Self.dict(a.data)["clusters"])
                return render("clusters", ["title": "Clusters", "clusters": clusters, "hasClusters": !clusters.isEmpty], v.session)
            }
        }
        root.get("clusters/new") { request, context in try await page(request, context) { v in clusterNewPage(v, form: [:]) } }
        root.post("clusters/new") { request, context in try await post(request, context, clusterCreate) }
        root.get("clusters/:id") { request, context in
            try await page(request, context) { v in try await clusterPage(v, id: context.parameters.get("id") ?? "", test: nil, agentKey: nil) }
        }
        root.post("clusters/:id/test") { request, context in
            try await post(request, context) { v in
                let id = context.parameters.get("id") ?? ""
                let a = try await call(v, .post, "clusters/\(Self.escapePath(id))/test")
                guard a.ok else { return refused(a, v, back: "/iceshelves/clusters/\(Self.escapePath(id))") }
                return try await clusterPage(v, id: id, test: Self.dict(a.data), agentKey: nil)
            }
        }
        root.post("clusters/:id/delete") { request, context in
            try await post(request, context) { v in
                let id = context.parameters.get("id") ?? ""
                let a = try await call(v, .delete, "clusters/\(Self.escapePath(id))")
                guard a.ok else { return refused(a, v, back: "/iceshelves/clusters/\(Self.escapePath(id))") }
                return WebPage.redirect("/iceshelves/clusters")
            }
        }
    }

    func clusterNewPage(_ v: Visit, form: [String: Any], error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let method = (form["connection_method"] as? String) ?? v.query.text("method") ?? "direct-api"
        return render(
            "clusterNew",
            [
                "title": "Add a cluster", "method": method, "form": form,
                "methods": Self.methods.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == method] },
                "isDirect": method == "direct-api", "isSSH": method == "ssh", "isSocket": method == "unix-socket", "isAgent": method == "agent-poll",
                "isKVM": method == "libvirt", "kvmQemu": (form["domain_type"] as? String) == "qemu",
                "agentKVM": method == "agent-poll" && (form["hypervisor"] as? String) == "kvm",
            ].merging(error.map { ["error": $0] } ?? [:]) { $1 },
            v.session,
            status: status
        )
    }

    func clusterCreate(_ v: Visit) async throws -> Response {
        var body: [String: Any] = [:]
        for name in [
            "name", "description", "connection_method", "endpoint_url", "client_cert", "client_key", "server_cert", "server_fingerprint", "ssh_host",
            "ssh_user", "ssh_key", "ssh_host_key_fingerprint", "socket_path", "hypervisor", "libvirt_uri", "storage_pool", "network", "domain_type",
            "ssh_host_key", "ca_cert",
        ] {
            if let value = v.form.text(name) { body[name] = value }
        }
        for name in ["ssh_port", "agent_poll_interval"] { if let t = v.form.text(name) { body[name] = Int(t) ?? t } }
        if v.form["verify_ssl"] == "false" { body["verify_ssl"] = false }
        let a = try await call(v, .post, "clusters", json: body)
        guard a.ok else {
            // The same form again (without the secrets), with the API's message on top.
            let kept = body.filter { !["client_key", "ssh_key"].contains($0.key) }
            return clusterNewPage(v, form: kept, error: a.error ?? "HTTP \(a.status)", status: .init(code: a.status))
        }
        let data = Self.dict(a.data)
        let id = "\(data["cluster_id"] ?? "")"
        if let agentKey = data["agent_key"] as? String {
            // Shown on this answer only: not in a redirect, not stored.
            return try await clusterPage(v, id: id, test: nil, agentKey: agentKey)
        }
        return WebPage.redirect("/iceshelves/clusters/\(Self.escapePath(id))")
    }

    func clusterPage(_ v: Visit, id: String, test: [String: Any]?, agentKey: String?) async throws -> Response {
        let a = try await call(v, .get, "clusters/\(Self.escapePath(id))")
        guard a.ok else { return refused(a, v, back: "/iceshelves/clusters") }
        let cluster = Self.dict(a.data)
        let recent = try await call(v, .get, "deployments?per_page=10&cluster_id=\(Self.escapePath(id))")
        let deployments = Self.list(Self.dict(recent.data)["deployments"])
        var data: [String: Any] = [
            "title": "Cluster \(cluster["name"] as? String ?? id)", "cluster": cluster,
            "deployments": deployments, "hasDeployments": !deployments.isEmpty,
        ]
        let details = Self.dict(test?["details"] ?? cluster["metadata"])  // the last test's members and resources
        if !details.isEmpty {
            var d = details
            let members = Self.list(details["members"]).map { m -> [String: Any] in
                let extra = m.filter { !["name", "server_name", "status"].contains($0.key) }.map { "\($0.key): \($0.value)" }.sorted().joined(
                    separator: ", "
                )
                return ["name": m["server_name"] ?? m["name"] ?? "", "status": m["status"] ?? "", "extra": extra]
            }
            d["memberRows"] = members
            d["hasMembers"] = !members.isEmpty
            let labels = ["cpu_cores": "CPU cores", "memory_gb": "Memory (GiB)"]
            d["resourceRows"] = Self.dict(details["resources"]).map { ["key": labels[$0.key] ?? $0.key, "value": "\($0.value)"] }
                .sorted { ($0["key"] ?? "") < ($1["key"] ?? "") }
            data["details"] = d
        }
        if let pools = Self.warmPoolSection(cluster) { data["warmPools"] = pools }
        if let test {
            let status = test["status"] as? String ?? "error"
            data["testResult"] = ["status": status, "ok": status == "active", "message": (Self.dict(test["details"])["message"] as? String) ?? ""]
        }
        if let agentKey {
            data["agentKey"] = agentKey
            data["agentURL"] = gateway.settings.agentURL  // agents talk to the agent-broker's listener, not to the gateway
        }
        return render("cluster", data, v.session)
    }
}
