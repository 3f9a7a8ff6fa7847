import Foundation
import Hummingbird
import HummingbirdTesting
import IceShelvesContracts
import Testing

@testable import ApiGateway

/// The web UI in process: login, sessions, CSRF, roles, headers, safe rendering.
@Suite("Web UI")
struct WebUITests {
    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String
        var location: String? { headers[.location] }
        var cookies: [String] { headers[values: .setCookie] }
        /// The first `_csrf` field's value.
        var csrf: String? {
            guard let r = text.range(of: #"name="_csrf" value=""#) else { return nil }
            return String(text[r.upperBound...].prefix { $0 != "\"" })
        }
    }

    struct Browser: Sendable {
        let client: any TestClientProtocol

        func go(_ method: HTTPRequest.Method, _ uri: String, cookie: String? = nil, form: String? = nil) async throws -> Page {
            var headers: HTTPFields = [:]
            if let cookie { headers[.cookie] = cookie }
            if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
            return try await client.execute(uri: uri, method: method, headers: headers, body: form.map { ByteBuffer(string: $0) }) {
                Page(status: $0.status, headers: $0.headers, text: String(buffer: $0.body))
            }
        }

        /// Logs in with `key`; answers the session cookie and the session's CSRF token.
        func login(_ key: String) async throws -> (cookie: String, csrf: String) {
            let page = try await go(.get, "/iceshelves/login")
            let token = try #require(page.csrf)
            let loginCookie = try #require(page.cookies.first { $0.hasPrefix("iceshelves_login=") }?.split(separator: ";").first)
            let done = try await go(.post, "/iceshelves/login", cookie: String(loginCookie), form: "_csrf=\(token)&key=\(key)")
            #expect(done.status == .seeOther)
            let session = try #require(done.cookies.first { $0.hasPrefix("iceshelves_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict"))
            let cookie = String(session.split(separator: ";")[0])
            let dashboard = try await go(.get, "/iceshelves", cookie: cookie)
            #expect(dashboard.status == .ok, "\(dashboard.text.prefix(300))")
            return (cookie, try #require(dashboard.csrf))
        }
    }

    func run(agentURL: String? = nil, _ body: @escaping @Sendable (Harness, Browser) async throws -> Void) async throws {
        let h = try await Harness(agentURL: agentURL)
        let app = Application(router: h.gateway.router())
        try await app.test(.router) { client in try await body(h, Browser(client: client)) }
    }

    @Test func theTemplatesParse() throws {
        _ = try WebTemplates.library()
    }

    @Test func aVisitorIsSentToLoginWhichSaysWhereTheAdminKeyIs() async throws {
        try await run { _, b in
            let page = try await b.go(.get, "/iceshelves")
            #expect(page.status == .seeOther)
            #expect(page.location == "/iceshelves/login")
            let login = try await b.go(.get, "/iceshelves/login")
            #expect(login.text.contains("admin.key"))
            #expect(login.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true)
            #expect(login.headers[.xContentTypeOptions] == "nosniff")
            #expect(!login.text.contains("style=") && !login.text.contains("<script>"), "no inline style or script (the CSP forbids them)")
        }
    }

    @Test func loginNeedsItsTokenAndAGoodKey() async throws {
        try await run { h, b in
            #expect(try await b.go(.post, "/iceshelves/login", form: "key=\(h.admin)").status == .forbidden)
            let page = try await b.go(.get, "/iceshelves/login")
            let cookie = String(page.cookies[0].split(separator: ";")[0])
            let bad = try await b.go(.post, "/iceshelves/login", cookie: cookie, form: "_csrf=\(page.csrf!)&key=isk_000000000000_nope")
            #expect(bad.status == .unauthorized)
            let (session, _) = try await b.login(h.admin)
            let dashboard = try await b.go(.get, "/iceshelves", cookie: session)
            #expect(!dashboard.text.contains(h.admin), "the key never reaches a page")
        }
    }

    @Test func aViewerSeesNoDeployButtonAndIsRefused() async throws {
        try await run { h, b in
            let (cookie, csrf) = try await b.login(h.viewer)
            let egg = try await b.go(.get, "/iceshelves/eggs/debian-hello", cookie: cookie)
            #expect(egg.status == .ok)
            #expect(!egg.text.contains("deploy-egg") && !egg.text.contains("nav-deploy"))
            let tried = try await b.go(
                .post,
                "/iceshelves/deploy",
                cookie: cookie,
                form: "_csrf=\(csrf)&egg_id=debian-hello&cluster_id=1&instance_name=a&action=deploy"
            )
            #expect(tried.status == .forbidden)
            #expect(tried.text.contains("operator"), "the API's own message")
        }
    }

    @Test func aFormWithoutItsCSRFTokenIsRefused() async throws {
        try await run { h, b in
            let (cookie, _) = try await b.login(h.admin)
            let refused = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "name=x&connection_method=unix-socket&socket_path=/x"
            )
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("CSRF"))
            let wrong = try await b.go(.post, "/iceshelves/logout", cookie: cookie, form: "_csrf=nope")
            #expect(wrong.status == .forbidden)
            #expect(try await b.go(.get, "/iceshelves/clusters", cookie: cookie).status == .ok, "still logged in")
        }
    }

    @Test func anOperatorDeploysFromTheFormAfterADryRun() async throws {
        try await run { h, b in
            let added = try await Harness.Client(client: b.client).call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"{"name":"local","connection_method":"unix-socket","socket_path":"/var/lib/lxd/unix.socket"}"#
            )
            #expect(added.status == .created)
            let (cookie, csrf) = try await b.login(h.operatorKey)
            let egg = try await b.go(.get, "/iceshelves/eggs/debian-hello", cookie: cookie)
            #expect(egg.text.contains("deploy-egg"))
            let form = try await b.go(.get, "/iceshelves/deploy?egg=debian-hello", cookie: cookie)
            #expect(form.text.contains(#"name="var.greeting""#))
            let fields = "_csrf=\(csrf)&egg_id=debian-hello&cluster_id=1&instance_name=web1&var.greeting=hi+there"
            let preview = try await b.go(.post, "/iceshelves/deploy", cookie: cookie, form: fields + "&action=dry_run")
            #expect(preview.status == .ok)
            #expect(preview.text.contains("Dry run"))
            #expect(h.bus.submitted.withLock { $0.isEmpty })
            let done = try await b.go(.post, "/iceshelves/deploy", cookie: cookie, form: fields + "&action=deploy")
            #expect(done.status == .seeOther, "\(done.text.prefix(400))")
            let location = try #require(done.location)
            #expect(location.hasPrefix("/iceshelves/deployments/"))
            #expect(h.bus.submitted.withLock { $0.first?.variables["greeting"] } == .string("hi there"))
            let page = try await b.go(.get, location, cookie: cookie)
            #expect(page.text.contains("dep-live") && page.text.contains("web1"))
            let list = try await b.go(.get, "/iceshelves/deployments?status=pending", cookie: cookie)
            #expect(list.text.contains("web1"))
        }
    }

    @Test func everyPageIsSmall() async throws {
        try await run { h, b in
            let (cookie, _) = try await b.login(h.admin)
            let css = try await b.go(.get, "/iceshelves/static/app.css").text.utf8.count
            let js = try await b.go(.get, "/iceshelves/static/app.js").text.utf8.count
            for path in [
                "/iceshelves", "/iceshelves/eggs", "/iceshelves/eggs/debian-hello", "/iceshelves/clusters", "/iceshelves/clusters/new",
                "/iceshelves/deployments", "/iceshelves/deploy", "/iceshelves/eggs/new", "/iceshelves/eggs/upload",
            ] {
                let page = try await b.go(.get, path, cookie: cookie)
                #expect(page.status == .ok, "\(path): \(page.text.prefix(300))")
                #expect(page.text.utf8.count + css + js <= 150 * 1024, "\(path)")
            }
        }
    }

    @Test func theDeploymentsListStaysFastWithTenThousandRows() async throws {
        try await run { h, b in
            let added = try await Harness.Client(client: b.client).call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"{"name":"local","connection_method":"unix-socket","socket_path":"/var/lib/lxd/unix.socket"}"#
            )
            #expect(added.status == .created)
            try await h.gateway.ledger.db.writer.write { db in
                for i in 0..<10_000 {
                    let status = DeploymentStatus.allCases[i % DeploymentStatus.allCases.count].rawValue
                    let time = String(format: "2026-11-%02dT%02d:%02d:%02d.000Z", 1 + i % 28, i % 24, i % 60, i % 60)
                    try db.execute(
                        sql: """
                            INSERT INTO deployment (id, egg_id, egg_name, cluster_id, instance_name, status, deployment_type, request_json,
                                                    last_seq, created_at, updated_at)
                            VALUES (?, 1, 'debian-hello', 1, ?, ?, 'lxd', '{}', 1, ?, ?)
                            """,
                        arguments: ["dep-\(i)", "bulk-\(i)", status, time, time]
                    )
                }
            }
            let (cookie, _) = try await b.login(h.viewer)
            for path in [
                "/iceshelves/deployments", "/iceshelves/deployments?page=150", "/iceshelves/deployments?status=failed&cluster_id=1&page=20",
                "/iceshelves",
            ] {
                let start = ContinuousClock.now
                let page = try await b.go(.get, path, cookie: cookie)
                let took = ContinuousClock.now - start
                #expect(page.status == .ok)
                #expect(took < .seconds(1), "\(path) took \(took)")
                #expect(page.text.utf8.count < 100 * 1024, "\(path)")
            }
            let last = try await b.go(.get, "/iceshelves/deployments?page=200", cookie: cookie)
            #expect(last.text.contains("Page 200 of 200 (10000 in all)"))
            #expect(last.text.contains("rel=\"prev\"") && !last.text.contains("rel=\"next\""))
        }
    }

    @Test func anAgentPollClusterShowsItsKeyOnce() async throws {
        try await run { h, b in
            let (cookie, csrf) = try await b.login(h.admin)
            let form = try await b.go(.get, "/iceshelves/clusters/new?method=agent-poll", cookie: cookie)
            #expect(form.text.contains("agent_poll_interval"))
            let added = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "_csrf=\(csrf)&name=edge&connection_method=agent-poll&agent_poll_interval=10"
            )
            #expect(added.status == .ok, "\(added.text.prefix(300))")
            #expect(added.text.contains("ICESHELVES_AGENT_KEY="), "the install command, with the key")
            #expect(added.text.contains("ICESHELVES_SERVER=http://127.0.0.1:8010\n"), "the agent-broker's default URL, not the gateway's")
            let again = try await b.go(.get, "/iceshelves/clusters/1", cookie: cookie)
            #expect(again.status == .ok)
            #expect(!again.text.contains("ICESHELVES_AGENT_KEY="), "never shown again")
            #expect(!again.text.contains("Warm pools"), "the agent's LXD is not the deployer's to fill")
            // An agent that deploys KVM VMs to its own libvirt.
            #expect(form.text.contains(#"<label for="c-agent-hv">"#) && form.text.contains(#"<option value="kvm""#))
            let kvm = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "_csrf=\(csrf)&name=edge-kvm&connection_method=agent-poll&agent_poll_interval=10&hypervisor=kvm"
            )
            #expect(kvm.status == .ok && kvm.text.contains("ICESHELVES_AGENT_KEY="), "\(kvm.text.prefix(300))")
            #expect(kvm.text.contains(#"<dd id="cluster-hypervisor">kvm</dd>"#))
        }
    }

    @Test func theAgentInstallCommandPointsAtTheAgentBroker() async throws {
        try await run(agentURL: "https://agents.example.org/iceshelves") { h, b in
            let (cookie, csrf) = try await b.login(h.admin)
            let added = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "_csrf=\(csrf)&name=edge&connection_method=agent-poll"
            )
            #expect(added.status == .ok, "\(added.text.prefix(300))")
            #expect(added.text.contains("ICESHELVES_SERVER=https://agents.example.org/iceshelves\n"))
        }
        #expect(try ApiGatewayCommand.resolvedAgentURL(nil, httpHost: "127.0.0.1") == "http://127.0.0.1:8010")
        #expect(try ApiGatewayCommand.resolvedAgentURL("", httpHost: "10.0.0.5") == "http://10.0.0.5:8010")
        #expect(try ApiGatewayCommand.resolvedAgentURL(nil, httpHost: "::1") == "http://[::1]:8010")
        #expect(try ApiGatewayCommand.resolvedAgentURL("https://a.example:8443/x", httpHost: "h") == "https://a.example:8443/x")
        for bad in ["ftp://a.example", "http://", "http://a b", "http://a.example/?k=v", "http://u:p@a.example", "a.example:8010", "http://a\nEOF"] {
            #expect(throws: (any Error).self, "\(bad)") { try ApiGatewayCommand.resolvedAgentURL(bad, httpHost: "h") }
        }
    }

    @Test func aKVMClusterIsRegisteredThroughItsForm() async throws {
        try await run { h, b in
            let (cookie, csrf) = try await b.login(h.admin)
            let form = try await b.go(.get, "/iceshelves/clusters/new?method=libvirt", cookie: cookie)
            #expect(form.status == .ok)
            for field in ["libvirt_uri", "storage_pool", "network", "domain_type", "ssh_key", "ssh_host_key", "client_cert", "client_key", "ca_cert"]
            {
                let id = try #require(
                    form.text.range(of: #"name="\#(field)""#).map { form.text[..<$0.lowerBound] }?.components(separatedBy: #"id=""#).last?
                        .prefix { $0 != "\"" },
                    "\(field)"
                )
                #expect(form.text.contains(#"<label for="\#(id)">"#), "\(field) has a label")
            }
            #expect(form.text.contains(#"name="hypervisor" value="kvm""#))
            // A qemu+ssh URI without its host key: the API's message, the form again, the key not echoed.
            let refused = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "_csrf=\(csrf)&name=kvm1&connection_method=libvirt&hypervisor=kvm&libvirt_uri=qemu%2Bssh%3A%2F%2Fops%40kvm.example%2Fsystem"
                    + "&ssh_key=-----BEGIN+OPENSSH+PRIVATE+KEY-----%0Asecretkeymaterial%0A-----END+OPENSSH+PRIVATE+KEY-----"
            )
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("ssh_host_key is required"), "\(refused.text.prefix(500))")
            #expect(refused.text.contains("qemu+ssh://ops@kvm.example/system") && !refused.text.contains("secretkeymaterial"))
            let noToken = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "name=kvm1&connection_method=libvirt&libvirt_uri=qemu%3A%2F%2F%2Fsystem"
            )
            #expect(noToken.status == .forbidden, "CSRF")
            let added = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: cookie,
                form: "_csrf=\(csrf)&name=kvm1&connection_method=libvirt&hypervisor=kvm&libvirt_uri=qemu%3A%2F%2F%2Fsystem"
                    + "&storage_pool=iceshelves&network=&domain_type=qemu&ssh_key=&ssh_host_key=&client_cert=&client_key=&ca_cert="
            )
            #expect(added.status == .seeOther, "\(added.text.prefix(500))")
            #expect(added.location == "/iceshelves/clusters/1")
            let page = try await b.go(.get, "/iceshelves/clusters/1", cookie: cookie)
            #expect(page.text.contains(#"<dd id="cluster-hypervisor">kvm</dd>"#))
            #expect(page.text.contains("<dd>qemu:///system</dd>") && page.text.contains("<dd>iceshelves</dd>") && page.text.contains("<dd>qemu</dd>"))
            #expect(page.text.contains("<dd>default</dd>"), "the network's default")
            let list = try await b.go(.get, "/iceshelves/clusters", cookie: cookie)
            #expect(list.text.contains("<td>kvm</td><td>libvirt</td>"))
            let api = try await Harness.Client(client: b.client).call(.get, "/iceshelves/api/clusters/1", key: h.admin)
            let registered = try #require(api.json["data"] as? [String: Any])
            #expect(registered["hypervisor"] as? String == "kvm" && registered["domain_type"] as? String == "qemu", "\(api.text)")
            // An operator sees no "Add a cluster", and the API refuses the post.
            let (opCookie, opCsrf) = try await b.login(h.operatorKey)
            #expect(!(try await b.go(.get, "/iceshelves/clusters", cookie: opCookie)).text.contains("Add a cluster"))
            let denied = try await b.go(
                .post,
                "/iceshelves/clusters/new",
                cookie: opCookie,
                form: "_csrf=\(opCsrf)&name=kvm2&connection_method=libvirt&libvirt_uri=qemu%3A%2F%2F%2Fsystem"
            )
            #expect(denied.status == .forbidden)
        }
    }

    @Test func anAdminSetsWarmPoolsOnTheClusterPage() async throws {
        try await run { h, b in
            let api = Harness.Client(client: b.client)
            let made = try await api.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"{"name":"local","connection_method":"unix-socket"}"#
            )
            #expect(made.status == .created)
            let (cookie, csrf) = try await b.login(h.admin)
            let empty = try await b.go(.get, "/iceshelves/clusters/1", cookie: cookie)
            #expect(empty.text.contains("<h2>Warm pools</h2>") && empty.text.contains("No warm pools."))
            #expect(empty.text.contains(#"<label for="warm-pool-lines">"#))
            let bad = try await b.go(
                .post,
                "/iceshelves/clusters/1/warm-pools",
                cookie: cookie,
                form: "_csrf=\(csrf)&pools=iceshelves%2Fdebian-12%3Dtwo"
            )
            #expect(bad.status == .badRequest && bad.text.contains("is not IMAGE=SIZE"), "\(bad.text.prefix(300))")
            let tooBig = try await b.go(.post, "/iceshelves/clusters/1/warm-pools", cookie: cookie, form: "_csrf=\(csrf)&pools=x%3D51")
            #expect(tooBig.status == .badRequest, "the API's own checks answer")
            let set = try await b.go(
                .post,
                "/iceshelves/clusters/1/warm-pools",
                cookie: cookie,
                form: "_csrf=\(csrf)&pools=iceshelves%2Fdebian-12%3D2%0D%0Aiceshelves%2Fbusybox%3D1%40node1+profiles%3Ddefault%2Cweb%0D%0A"
            )
            #expect(set.status == .seeOther && set.location == "/iceshelves/clusters/1", "\(set.text.prefix(300))")
            let page = try await b.go(.get, "/iceshelves/clusters/1", cookie: cookie)
            #expect(page.text.contains("<tr><td>iceshelves/debian-12</td><td>any</td><td>default</td><td>2</td>"), "\(page.text)")
            #expect(page.text.contains("<td>iceshelves/busybox</td><td>node1</td><td>default, web</td><td>1</td>"))
            #expect(
                page.text.contains("iceshelves/debian-12=2\niceshelves/busybox=1@node1 profiles=default,web</textarea>"),
                "the form keeps every pool's profiles, so saving it again changes nothing"
            )
            let stored = try await api.call(.get, "/iceshelves/api/clusters/1", key: h.admin)
            #expect(((stored.json["data"] as? [String: Any])?["warm_pools"] as? [Any])?.count == 2)
            // An operator sees the pools, not the form, and cannot post it.
            let (opCookie, opCsrf) = try await b.login(h.operatorKey)
            let seen = try await b.go(.get, "/iceshelves/clusters/1", cookie: opCookie)
            #expect(seen.text.contains("iceshelves/busybox") && !seen.text.contains("warm-pool-lines"))
            #expect(try await b.go(.post, "/iceshelves/clusters/1/warm-pools", cookie: opCookie, form: "_csrf=\(opCsrf)&pools=").status == .forbidden)
        }
    }

    @Test func eggTextIsRenderedSafely() {
        let html = HTMLText.markdown(
            "# Title\n<script>alert(1)</script>\n\n- [a](javascript:alert(1))\n- [b](https://x.org/\"onmouseover=)\n\n```\n<b>\n```"
        )
        #expect(!html.contains("<script") && !html.contains("javascript:") && !html.contains("<b>"))
        #expect(html.contains("<h3>Title</h3>"))
        #expect(html.contains(#"href="https://x.org/&quot;onmouseover=""#))
        let yaml = HTMLText.highlightYAML("#cloud-config\nhostname: \"{{ hostname }}\"\nx: <img src=x>")
        #expect(yaml.contains(#"<span class="y-k">hostname</span>"#))
        #expect(!yaml.contains("<img"))
    }
}
