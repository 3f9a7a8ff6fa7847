import Foundation
import Hummingbird
import IceShelvesContracts
import Testing

@testable import ApiGateway

@Suite("Gateway router: auth, roles, errors")
struct RouterAuthTests {
    @Test func healthzNeedsNoKeyAndEverythingElseDoes() async throws {
        let h = try await Harness()
        try await h.run { c in
            let health = try await c.call(.get, "/iceshelves/healthz", key: nil)
            #expect(health.status == .ok)
            #expect(health.json["status"] as? String == "healthy")
            for (method, path) in [
                (HTTPRequest.Method.get, "/iceshelves/api/eggs"), (.get, "/iceshelves/api/clusters"), (.post, "/iceshelves/api/deploy"),
                (.get, "/iceshelves/api/deployments"), (.get, "/iceshelves/api/keys"), (.get, "/iceshelves/metrics"),
                (.get, "/iceshelves/api/events"),
            ] {
                let r = try await c.call(method, path, key: nil)
                #expect(r.status == .unauthorized, "\(path)")
                #expect(r.json["success"] as? Bool == false)
                #expect(r.json["code"] as? Int == 401)
                let bad = try await c.call(method, path, key: "isk_000000000000_nope")
                #expect(bad.status == .unauthorized, "\(path) with a bad key")
            }
        }
    }

    @Test func rolesLimitWhatAKeyMayDo() async throws {
        let h = try await Harness()
        try await h.run { c in
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: h.viewer).status == .ok)
            #expect(try await c.call(.get, "/iceshelves/metrics", key: h.viewer).status == .ok)
            let deploy = try await c.call(.post, "/iceshelves/api/deploy", key: h.viewer, json: #"{"egg_id":1,"cluster_id":1,"instance_name":"a"}"#)
            #expect(deploy.status == .forbidden)
            #expect((deploy.json["error"] as? String)?.contains("operator") == true)
            #expect(
                try await c.call(.post, "/iceshelves/api/clusters", key: h.operatorKey, json: #"{"name":"x","connection_method":"unix-socket"}"#)
                    .status == .forbidden
            )
            #expect(try await c.call(.get, "/iceshelves/api/keys", key: h.operatorKey).status == .forbidden)
            #expect(try await c.call(.get, "/iceshelves/api/keys", key: h.admin).status == .ok)
            #expect(try await c.call(.get, "/iceshelves/api/webhooks", key: h.viewer).status == .forbidden)
        }
    }

    @Test func keysAreCreatedShownOnceListedWithoutSecretsAndRevoked() async throws {
        let h = try await Harness()
        try await h.run { c in
            let created = try await c.call(.post, "/iceshelves/api/keys", key: h.admin, json: #"{"name":"ci","role":"viewer"}"#)
            #expect(created.status == .created)
            let key = try #require(created.json["key"] as? String)
            let id = try #require(created.json["id"] as? String)
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: key).status == .ok)
            let list = try await c.call(.get, "/iceshelves/api/keys", key: h.admin)
            // The secret is everything after `isk_<id>_`; base64url may itself hold `_`, so split only twice
            // (the last `_`-piece alone could be a letter or two that the listing holds by chance).
            let secret = try #require(key.split(separator: "_", maxSplits: 2).last)
            #expect(secret.count >= 40 && !list.text.contains(secret))
            #expect(try await c.call(.delete, "/iceshelves/api/keys/\(id)", key: h.admin).status == .ok)
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: key).status == .unauthorized)
            #expect(try await c.call(.delete, "/iceshelves/api/keys/\(id)", key: h.admin).status == .notFound)
            #expect(try await c.call(.post, "/iceshelves/api/keys", key: h.admin, json: #"{"name":"x","role":"root"}"#).status == .badRequest)
            let audit = try await c.call(.get, "/iceshelves/api/audit", key: h.admin)
            #expect(audit.text.contains("key.revoke"))
        }
    }

    @Test func badBodiesGetClearFourHundreds() async throws {
        let h = try await Harness()
        try await h.run { c in
            let notJSON = try await c.call(.post, "/iceshelves/api/deploy", key: h.admin, json: "{nope")
            #expect(notJSON.status == .badRequest)
            let missing = try await c.call(.post, "/iceshelves/api/deploy", key: h.admin, json: #"{"cluster_id":1}"#)
            #expect(missing.status == .badRequest)
            #expect((missing.json["error"] as? String)?.contains("egg_id") == true)
            let wrongType = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.admin,
                json: #"{"egg_id":1,"cluster_id":[1],"instance_name":"a"}"#
            )
            #expect(wrongType.status == .badRequest)
            let huge = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.admin,
                json: #"{"egg_id":"\#(String(repeating: "x", count: 70_000))"}"#
            )
            #expect(huge.status == .contentTooLarge)
            let empty = try await c.call(.post, "/iceshelves/api/keys", key: h.admin)
            #expect(empty.status == .badRequest)
            #expect(try await c.call(.get, "/iceshelves/api/deployments?page=0", key: h.admin).status == .badRequest)
            #expect(try await c.call(.get, "/iceshelves/api/deployments?per_page=101", key: h.admin).status == .badRequest)
            #expect(
                try await c.call(.get, "/iceshelves/api/deployments?page=", key: h.admin).status == .badRequest,
                "an empty number is not the default"
            )
            #expect(try await c.call(.get, "/iceshelves/api/deployments?status=bogus", key: h.admin).status == .badRequest)
            #expect(try await c.call(.get, "/iceshelves/api/deployments/nope", key: h.admin).status == .notFound)
            #expect(try await c.call(.get, "/iceshelves/api/clusters/abc", key: h.admin).status == .notFound)
        }
    }
}

@Suite("Gateway router: clusters, deploys, the ledger")
struct RouterDeployTests {
    static let clientCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static let clientKey = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"

    @Test func clustersAreValidatedPerMethodAndNeverShowTheirSecrets() async throws {
        let h = try await Harness()
        try await h.run { c in
            let noPin = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: """
                    {"name":"a","connection_method":"direct-api","endpoint_url":"https://127.0.0.1:8443","client_cert":\(json(Self.clientCert)),"client_key":\(json(Self.clientKey))}
                    """
            )
            #expect(noPin.status == .badRequest)
            #expect((noPin.json["error"] as? String)?.contains("server_cert") == true)
            let ok = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: """
                    {"name":"a","connection_method":"direct-api","endpoint_url":"https://127.0.0.1:8443","client_cert":\(json(Self.clientCert)),
                     "client_key":\(json(Self.clientKey)),"server_cert":\(json(Self.clientCert))}
                    """
            )
            #expect(ok.status == .created)
            let dup = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"a","connection_method":"unix-socket"}"#)
            #expect(dup.status == .conflict)
            let sshNoPin = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: """
                    {"name":"s","connection_method":"ssh","ssh_host":"127.0.0.1","ssh_user":"root","ssh_key":\(json(Self.clientKey))}
                    """
            )
            #expect(sshNoPin.status == .badRequest)
            let agent = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"{"name":"ag","connection_method":"agent-poll","agent_poll_interval":60}"#
            )
            #expect(agent.status == .created)
            #expect((agent.json["agent_key"] as? String)?.isEmpty == false)
            #expect(
                try await c.call(
                    .post,
                    "/iceshelves/api/clusters",
                    key: h.admin,
                    json: #"{"name":"ag2","connection_method":"agent-poll","agent_poll_interval":601}"#
                ).status == .badRequest
            )
            #expect(
                try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"x","connection_method":"telnet"}"#).status
                    == .badRequest
            )

            for path in ["/iceshelves/api/clusters", "/iceshelves/api/clusters/1"] {
                let r = try await c.call(.get, path, key: h.viewer)
                #expect(r.status == .ok)
                #expect(!r.text.contains("TOPSECRET"), "\(path) leaked a key")
            }
            let stored = try await h.gateway.ledger.db.writer.read { try Data.fetchOne($0, sql: "SELECT secrets FROM cluster WHERE id = 1") }
            #expect(stored.map { !String(decoding: $0, as: UTF8.self).contains("TOPSECRET") } == true, "secrets are sealed at rest")
            let test = try await c.call(.post, "/iceshelves/api/clusters/1/test", key: h.operatorKey)
            #expect(test.json["status"] as? String == "active")
        }
    }

    @Test func aDeployIsValidatedRecordedAndPublished() async throws {
        let h = try await Harness()
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#)
            for bad in ["1abc", "a_b", "-a", "a-", String(repeating: "a", count: 64), ""] {
                let r = try await c.call(
                    .post,
                    "/iceshelves/api/deploy",
                    key: h.operatorKey,
                    json: #"{"egg_id":1,"cluster_id":1,"instance_name":"\#(bad)"}"#
                )
                #expect(r.status == .badRequest, "instance name '\(bad)'")
            }
            #expect(
                try await c.call(.post, "/iceshelves/api/deploy", key: h.operatorKey, json: #"{"egg_id":1,"cluster_id":9,"instance_name":"a"}"#)
                    .status == .notFound
            )
            #expect(
                try await c.call(.post, "/iceshelves/api/deploy", key: h.operatorKey, json: #"{"egg_id":"nope","cluster_id":1,"instance_name":"a"}"#)
                    .status == .notFound
            )
            #expect(
                try await c.call(
                    .post,
                    "/iceshelves/api/deploy",
                    key: h.operatorKey,
                    json: #"{"egg_id":1,"cluster_id":1,"instance_name":"a","config_overrides":{"user.iceshelves.deployment-id":"x"}}"#
                ).status == .badRequest
            )

            let dry = try await c.call(
                .post,
                "/iceshelves/api/deploy?dry_run=true",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"web-1"}"#
            )
            #expect(dry.status == .ok)
            #expect(dry.json["dry_run"] as? Bool == true)
            let vague = try await c.call(
                .post,
                "/iceshelves/api/deploy?dry_run=yes",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"web-1"}"#
            )
            #expect(vague.status == .badRequest, "dry_run is true or false")
            #expect(dry.json["user_data"] as? String == "#cloud-config\n")
            #expect((dry.json["target_request"] as? [String: Any])?["path"] as? String == "/1.0/instances")
            #expect(h.bus.submitted.withLock { $0.isEmpty }, "a dry run creates nothing")

            let r = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"web-1","variables":{"greeting":"hi"},"config_overrides":{"limits.cpu":"1"}}"#
            )
            #expect(r.status == .created)
            #expect(r.json["status"] as? String == "pending")
            let id = try #require(r.json["deployment_id"] as? String)
            let sent = try #require(h.bus.submitted.withLock { $0.first })
            #expect(sent.deploymentId == id)
            #expect(sent.variables["greeting"] == .string("hi"))
            #expect(sent.destination?.configOverrides["limits.cpu"] == "1")
            #expect(sent.destination?.clusterId == "1")
            // The job names the cluster; its connection stays with the gateway (cluster.connection).
            let wire = String(decoding: try MessageCodec.encode(Envelope(sent)), as: UTF8.self)
            #expect(!wire.contains("connection") && !wire.contains("socket"), "\(wire)")
            let again = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"web-1"}"#
            )
            #expect(again.status == .conflict, "an active deployment holds the name")

            let got = try await c.call(.get, "/iceshelves/api/deployments/\(id)", key: h.viewer)
            #expect(got.json["status"] as? String == "pending")
            #expect((got.json["egg"] as? [String: Any])?["name"] as? String == "debian-hello")
            #expect((got.json["logs"] as? [Any])?.isEmpty == false)
            let listed = try await c.call(.get, "/iceshelves/api/deployments?status=pending&cluster_id=1", key: h.viewer)
            #expect(listed.json["total"] as? Int == 1)
            #expect(
                try await c.call(.delete, "/iceshelves/api/clusters/1", key: h.admin).status == .conflict,
                "a cluster with an active deployment stays"
            )

            let cancel = try await c.call(.post, "/iceshelves/api/deployments/\(id)/cancel", key: h.operatorKey)
            #expect(cancel.status == .ok)
            #expect(h.bus.cancelled.withLock { $0 } == [id])
            #expect(try await c.call(.post, "/iceshelves/api/deployments/\(id)/cancel", key: h.operatorKey).status == .conflict)
            let retry = try await c.call(.post, "/iceshelves/api/deployments/\(id)/retry", key: h.operatorKey)
            #expect(retry.status == .created)
            #expect(retry.json["retry_of"] as? String == id)
            #expect(h.bus.submitted.withLock { $0.count } == 2)
        }
    }

    @Test func aBatchMakesOneDeploymentPerNameAndTheLimitHolds() async throws {
        let h = try await Harness(maxConcurrent: 3)
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#)
            let batch = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"count":3,"name_pattern":"node-{n}"}"#
            )
            #expect(batch.status == .created)
            #expect((batch.json["deployments"] as? [Any])?.count == 3)
            #expect(h.bus.submitted.withLock { $0.map(\.instanceName) } == ["node-1", "node-2", "node-3"])
            let over = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"extra"}"#
            )
            #expect(over.status == .tooManyRequests)
            #expect(
                try await c.call(
                    .post,
                    "/iceshelves/api/deploy",
                    key: h.operatorKey,
                    json: #"{"egg_id":1,"cluster_id":1,"count":0,"name_pattern":"n-{n}"}"#
                ).status == .badRequest
            )
        }
    }

    func json(_ s: String) -> String { String(decoding: try! JSONEncoder().encode(s), as: UTF8.self) }
}

@Suite("Deployment states")
struct DeploymentStatusTests {
    @Test func onlyForwardMovesAndFinalStatesStay() {
        #expect(DeploymentStatus.pending.canMove(to: .rendering))
        #expect(DeploymentStatus.rendering.canMove(to: .inProgress))
        #expect(DeploymentStatus.inProgress.canMove(to: .completed))
        #expect(DeploymentStatus.pending.canMove(to: .failed))
        #expect(!DeploymentStatus.pending.canMove(to: .completed))
        #expect(!DeploymentStatus.inProgress.canMove(to: .queued))
        for final in [DeploymentStatus.completed, .failed, .cancelled, .timeout] {
            for next in DeploymentStatus.allCases { #expect(!final.canMove(to: next)) }
        }
    }

    @Test func theLedgerNumbersEveryEventAndNeverGoesBack() async throws {
        let ledger = Ledger(db: try GatewayDatabase.inMemory())
        try await ledger.db.writer.write {
            try $0.execute(sql: "INSERT INTO cluster (name, connection_method, created_at) VALUES ('c', 'unix-socket', 'now')")
        }
        let request = DeploymentRequested(deploymentId: "d1", eggName: "e", instanceName: "i", target: .lxd)
        let inserted = try await ledger.insert([request], eggId: 1, clusterId: 1, clusterName: "c", deployedBy: "t", limit: 10)
        #expect(inserted.map(\.seq) == [1])
        let started = try #require(try await ledger.record("d1", DeploymentEvent(status: .inProgress, step: .connect, message: "m")))
        #expect(started.movedFrom == .pending && started.progress.seq == 2)
        let late = try #require(try await ledger.record("d1", DeploymentEvent(status: .queued, step: .render, message: "late")))
        #expect(late.movedFrom == nil, "a late event does not move the status")
        #expect(late.progress.status == .inProgress && late.progress.seq == 3, "it is shown with the status the deployment has")
        #expect(try await ledger.get("d1")?.status == .inProgress)
        let done = try #require(
            try await ledger.record("d1", DeploymentEvent(status: .completed, step: .done, message: "ok", details: ["name": "i"]))
        )
        #expect(done.movedFrom == .inProgress && done.progress.seq == 4)
        #expect(try await ledger.get("d1")?.instanceInfo?["name"] == "i")
        #expect(try await ledger.logs("d1").map(\.seq) == [1, 2, 3, 4], "every event is logged and numbered, legal or not")
        #expect(try await ledger.record("nope", DeploymentEvent(status: .failed, step: .deploy, message: "x")) == nil)
        let e = DeploymentEvent(status: .completed, step: .done, message: "again")
        #expect(try await ledger.record("d1", e, messageId: "m-1") != nil)
        #expect(try await ledger.record("d1", e, messageId: "m-1") == nil, "a redelivered message is recorded once")
        #expect(try await ledger.logs("d1").count == 5)
        let replay = try await ledger.progress("d1", after: 2)
        #expect(replay.map(\.seq) == [3, 4, 5])
        #expect(replay.map(\.status) == [.inProgress, .completed, .completed], "the status after each event")
        #expect(replay[1].details["name"] == "i")
    }
}

@Suite("Gateway router: host access needs an admin's allow")
struct HostAccessRouterTests {
    /// Seen by a user: an operator's dry run with `security.privileged` and `raw.lxc` in
    /// `config_overrides` was accepted: root on the hypervisor.
    @Test func anOperatorsPrivilegedOverridesAreRefusedUntilAnAdminAllowsThemOnTheCluster() async throws {
        let h = try await Harness()
        try await h.run { c in
            #expect(
                try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#).status
                    == .created
            )
            let body =
                #"{"egg_id":1,"cluster_id":1,"instance_name":"p-1","variables":{"greeting":"hi"},"config_overrides":{"security.privileged":"true","raw.lxc":"lxc.apparmor.profile=unconfined"}}"#
            for path in ["/iceshelves/api/deploy?dry_run=true", "/iceshelves/api/deploy"] {
                let r = try await c.call(.post, path, key: h.operatorKey, json: body)
                #expect(r.status == .forbidden, "\(path): \(r.text)")
                let error = r.json["error"] as? String ?? ""
                #expect(error.contains("raw.lxc") && error.contains("security.privileged"), "names the keys: \(error)")
            }
            #expect(h.bus.submitted.withLock { $0.isEmpty })
            // Harmless values are not host access.
            let off = try await c.call(
                .post,
                "/iceshelves/api/deploy?dry_run=true",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"p-2","config_overrides":{"security.privileged":"false","limits.cpu":"1"}}"#
            )
            #expect(off.status == .ok, "\(off.text)")
            // An operator cannot allow it; an admin can, per cluster, by key.
            #expect(
                try await c.call(.put, "/iceshelves/api/clusters/1/host-access", key: h.operatorKey, json: #"{"allow":["raw.*"]}"#).status
                    == .forbidden
            )
            #expect(
                try await c.call(.put, "/iceshelves/api/clusters/1/host-access", key: h.admin, json: #"{"allow":["rm -rf"]}"#).status == .badRequest
            )
            #expect(try await c.call(.put, "/iceshelves/api/clusters/1/host-access", key: h.admin, json: #"{"allow":["raw.*"]}"#).status == .ok)
            let half = try await c.call(.post, "/iceshelves/api/deploy?dry_run=true", key: h.operatorKey, json: body)
            #expect(half.status == .forbidden)
            #expect((half.json["error"] as? String)?.contains("security.privileged") == true)
            #expect((half.json["error"] as? String)?.contains("raw.lxc") == false, "raw.* is allowed now")
            let both = #"{"allow":["raw.*","security.privileged"]}"#
            #expect(try await c.call(.put, "/iceshelves/api/clusters/1/host-access", key: h.admin, json: both).status == .ok)
            #expect(try await c.call(.post, "/iceshelves/api/deploy?dry_run=true", key: h.operatorKey, json: body).status == .ok)
            let cluster = try await c.call(.get, "/iceshelves/api/clusters/1", key: h.viewer)
            #expect(cluster.text.contains("host_access_allow"))
        }
    }

    @Test func anAdminSetsWarmPoolsAndTheDetailShowsThem() async throws {
        let h = try await Harness()
        try await h.run { c in
            #expect(
                try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#).status
                    == .created
            )
            let path = "/iceshelves/api/clusters/1/warm-pools"
            let pools =
                #"{"warm_pools":[{"image":"iceshelves/debian-12","size":2},{"image":"iceshelves/busybox","size":1,"profiles":["default"],"member":"node1"}]}"#
            #expect(try await c.call(.put, path, key: h.operatorKey, json: pools).status == .forbidden)
            for bad in [
                #"{"warm_pools":[{"image":"","size":1}]}"#, #"{"warm_pools":[{"image":"x","size":51}]}"#,
                #"{"warm_pools":[{"image":"x","size":-1}]}"#, #"{"warm_pools":[{"image":"x y","size":1}]}"#,
                #"{"warm_pools":[{"image":"x","size":1,"profiles":["a/b"]}]}"#, #"{"warm_pools":[{"image":"x","size":1,"member":"-n"}]}"#,
                #"{"warm_pools":[{"image":"x","size":1},{"image":"x","size":2}]}"#, #"{"warm_pools":"x"}"#, #"{}"#,
            ] {
                let r = try await c.call(.put, path, key: h.admin, json: bad)
                #expect(r.status == .badRequest, "\(bad): \(r.text)")
                #expect(r.json["error"] is String)
            }
            let ok = try await c.call(.put, path, key: h.admin, json: pools)
            #expect(ok.status == .ok, "\(ok.text)")
            #expect((ok.json["warm_pools"] as? [Any])?.count == 2)
            let detail = try await c.call(.get, "/iceshelves/api/clusters/1", key: h.viewer)
            let data = detail.json["data"] as? [String: Any] ?? [:]
            let stored = data["warm_pools"] as? [[String: Any]] ?? []
            #expect(stored.map { $0["image"] as? String } == ["iceshelves/debian-12", "iceshelves/busybox"])
            #expect(data["warm_pool_status"] != nil)
            #expect(try await c.call(.delete, "/iceshelves/api/clusters/1", key: h.admin).status == .conflict, "pools first")
            #expect(try await c.call(.put, path, key: h.admin, json: #"{"warm_pools":[]}"#).status == .ok)
            let after = try await c.call(.get, "/iceshelves/api/clusters/1", key: h.viewer)
            #expect(((after.json["data"] as? [String: Any])?["warm_pools"] as? [Any])?.isEmpty == true)
            #expect(try await c.call(.put, "/iceshelves/api/clusters/9/warm-pools", key: h.admin, json: pools).status == .notFound)
        }
    }

    /// Seen by a user: an operator uploaded an egg whose LXD profile mounts the host's `/`.
    @Test func anEggProfileWithAHostDiskIsRefusedUntilAnAdminReviewsThatVersion() async throws {
        let h = try await Harness()
        try await h.run { c in
            #expect(
                try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#).status
                    == .created
            )
            let body = #"{"egg_id":2,"cluster_id":1,"instance_name":"d-1"}"#
            let refused = try await c.call(.post, "/iceshelves/api/deploy", key: h.operatorKey, json: body)
            #expect(refused.status == .forbidden, "\(refused.text)")
            #expect((refused.json["error"] as? String)?.contains("devices.disk") == true, "\(refused.text)")
            #expect((refused.json["error"] as? String)?.contains("hostroot") == true, "\(refused.text)")
            #expect(try await c.call(.post, "/iceshelves/api/eggs/host-disk/review", key: h.operatorKey).status == .forbidden)
            let reviewed = try await c.call(.post, "/iceshelves/api/eggs/host-disk/review", key: h.admin)
            #expect(reviewed.status == .ok, "\(reviewed.text)")
            let allowed = try await c.call(.post, "/iceshelves/api/deploy", key: h.operatorKey, json: body)
            #expect(allowed.status == .created)
            let first = try #require(allowed.json["deployment_id"] as? String)
            #expect(try await c.call(.post, "/iceshelves/api/deployments/\(first)/cancel", key: h.operatorKey).status == .ok)
            // Withdrawn: refused again, for a retry too.
            #expect(try await c.call(.delete, "/iceshelves/api/eggs/host-disk/review", key: h.admin).status == .ok)
            #expect(try await c.call(.post, "/iceshelves/api/deployments/\(first)/retry", key: h.operatorKey).status == .forbidden)
            let again = #"{"egg_id":2,"cluster_id":1,"instance_name":"d-2"}"#
            #expect(try await c.call(.post, "/iceshelves/api/deploy", key: h.operatorKey, json: again).status == .forbidden)
        }
    }
}

@Suite("Gateway router: webhooks never reach the metadata service")
struct WebhookEgressRouterTests {
    @Test func aWebhookToTheMetadataAddressIsRefused() async throws {
        let h = try await Harness()
        try await h.run { c in
            for url in ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://127.0.0.1:9/"] {
                let r = try await c.call(.post, "/iceshelves/api/webhooks", key: h.admin, json: #"{"url":"\#(url)"}"#)
                #expect(r.status == .forbidden, "\(url): \(r.text)")
            }
        }
    }
}
