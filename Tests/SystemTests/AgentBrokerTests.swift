import Foundation
import IceShelvesContracts
import Testing

/// The agent-broker with the real gateway, catalog and renderer: the original agent's requests,
/// byte for byte as its script sends them, our long-poll, keys, leases and a broker restart.
extension AgentSystemTests {
    @Suite(
        "agent-broker with the real bus, gateway, catalog and renderer",
        .serialized,
        .enabled(if: AgentStack.ready, "set ICESHELVES_TEST_AGENT_AMQP_URL (scripts/test does)")
    )
    struct AgentBrokerTests {
        /// The original agent's status body: all five keys, nulls, a naive timestamp.
        static func originalStatus(_ status: String, message: String, instanceInfo: String = "null", error: String = "null") -> String {
            """
            {"status": "\(status)", "message": "\(message)", "instance_info": \(instanceInfo), "error_message": \(error), \
            "details": {"agent_hostname": "hv-1", "timestamp": "2026-11-30T20:16:47.630324"}}
            """
        }

        @Test func theOriginalAgentsRequestsWorkAndALeasedJobIsNotHandedOutTwice() async throws {
            let stack = try AgentStack(leaseSeconds: 30)
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-a")
                let b = try await stack.registerAgentCluster("agent-b")
                #expect(a.key.count >= 43, "a 256-bit key, base64url")

                // Both base paths; wrong key and the other cluster's key get 401 and nothing else.
                for base in [stack.agentServer, "http://127.0.0.1:\(stack.brokerPort)"] {
                    let wrong = try await AgentHTTP.post(base + "/api/agent/poll/\(a.id)", agentKey: "nope", body: "")
                    #expect(wrong.status == 401)
                    #expect(wrong.json["error"] as? String == "Invalid agent key")
                    let other = try await AgentHTTP.post(base + "/api/agent/poll/\(a.id)", agentKey: b.key, body: "")
                    #expect(other.status == 401)
                    #expect(other.text == wrong.text)
                    let none = try await AgentHTTP.post(base + "/api/agent/poll/\(a.id)", agentKey: a.key, body: "")
                    #expect(none.status == 200)
                    #expect((none.json["deployments"] as? [Any])?.isEmpty == true)
                }
                let cluster = try await HTTP.call("GET", stack.gatewayBase + "/api/clusters/\(a.id)", key: stack.adminKey)
                #expect(
                    (cluster.json["data"] as? [String: Any])?["status"] as? String == "active",
                    "a poll makes the cluster active: \(cluster.json)"
                )

                let id = try await stack.deploy(cluster: a.id, instance: "agent-orig-1")
                #expect(try await stack.waitForStatus(id, "queued", within: .seconds(20)))
                // B's agent never sees A's job.
                let bPoll = try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(b.id)", agentKey: b.key, body: "")
                #expect((bPoll.json["deployments"] as? [Any])?.isEmpty == true)

                var items: [[String: Any]] = []
                let deadline = ContinuousClock.now + .seconds(20)
                while items.isEmpty, ContinuousClock.now < deadline {
                    let poll = try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(a.id)", agentKey: a.key, body: "")
                    #expect(poll.status == 200)
                    items = poll.json["deployments"] as? [[String: Any]] ?? []
                    if items.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
                }
                let item = try #require(items.first)
                #expect(item["deployment_id"] as? String == id)
                #expect(item["deployment_type"] as? String == "lxd")
                #expect(item["instance_name"] as? String == "agent-orig-1")
                #expect(item["egg_name"] as? String == "debian-hello")
                for field in [
                    "deployment_id", "egg_name", "instance_name", "deployment_type", "cloud_init", "lxd_profile", "config_overrides", "target_member",
                ] {
                    #expect(item[field] != nil && !(item[field] is NSNull), "\(field) must be present and not null")
                }
                let userData = try #require(item["cloud_init"] as? String)
                #expect(userData.hasPrefix("#cloud-config"))
                #expect(!userData.contains("{{"), "rendered, not the template")
                let overrides = try #require(item["config_overrides"] as? [String: String], "every value a string")
                #expect(overrides["cloud-init.user-data"] == userData)

                // Leased: not handed out again, to this agent or another poll.
                let again = try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(a.id)", agentKey: a.key, body: "")
                #expect((again.json["deployments"] as? [Any])?.isEmpty == true)

                // Status: another cluster's key and an unknown id look the same; a wrong key is 401.
                let statusURL = stack.agentServer + "/api/agent/status/\(id)"
                let foreign = try await AgentHTTP.post(statusURL, agentKey: b.key, body: Self.originalStatus("in_progress", message: "x"))
                let unknown = try await AgentHTTP.post(
                    stack.agentServer + "/api/agent/status/\(UUID().uuidString.lowercased())",
                    agentKey: b.key,
                    body: Self.originalStatus("in_progress", message: "x")
                )
                #expect(foreign.status == 404 && unknown.status == 404 && foreign.text == unknown.text)
                #expect(try await AgentHTTP.post(statusURL, agentKey: "nope", body: Self.originalStatus("in_progress", message: "x")).status == 401)
                #expect(try await AgentHTTP.post(statusURL, agentKey: a.key, body: "{not json").json["error"] as? String == "Invalid JSON")
                #expect(try await AgentHTTP.post(statusURL, agentKey: a.key, body: Self.originalStatus("bogus", message: "x")).status == 400)

                let started = try await AgentHTTP.post(
                    statusURL,
                    agentKey: a.key,
                    body: Self.originalStatus("in_progress", message: "Starting deployment of agent-orig-1")
                )
                #expect(started.status == 200)
                #expect(started.json["success"] as? Bool == true)
                #expect(started.json["message"] as? String == "Status updated")
                #expect(try await stack.waitForStatus(id, "in_progress", within: .seconds(10)))

                let info = """
                    {"name": "agent-orig-1", "status": "Running", "architecture": "x86_64", "created_at": "2026-11-30T20:16:47.123456789Z", \
                    "ipv4": [{"family": "inet", "address": "10.200.77.5", "netmask": "24", "scope": "global"}, \
                    {"family": "inet6", "address": "fe80::1", "netmask": "64", "scope": "link"}]}
                    """
                let done = try await AgentHTTP.post(
                    statusURL,
                    agentKey: a.key,
                    body: Self.originalStatus("completed", message: "Instance agent-orig-1 deployed successfully", instanceInfo: info)
                )
                #expect(done.status == 200)
                #expect(try await stack.waitForStatus(id, "completed", within: .seconds(10)))
                let detail = try await stack.deployment(id)
                let instanceInfo = detail["instance_info"] as? [String: Any] ?? [:]
                #expect("\(instanceInfo["ipv4"] ?? "")".contains("10.200.77.5"), "\(detail)")
                #expect(!"\(instanceInfo["ipv4"] ?? "")".contains("fe80"))
                #expect("\(detail)".contains("cloud-init was not verified") || "\(instanceInfo)".contains("not verified"))
                // Finished: never handed out again.
                let after = try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(a.id)", agentKey: a.key, body: "")
                #expect((after.json["deployments"] as? [Any])?.isEmpty == true)
            }
        }

        /// Keys are rotatable with an overlap and revocable: the broker takes a new key at once
        /// and stops taking an old or revoked one within its 30 s cache.
        @Test func aRotatedKeyWorksAtOnceAndAnEndedOrRevokedOneStopsWithinTheCacheTime() async throws {
            let stack = try AgentStack(leaseSeconds: 30)
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-rotate")
                let poll = { (key: String) in try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(a.id)", agentKey: key, body: "").status
                }
                #expect(try await poll(a.key) == 200)
                let rotated = try await HTTP.call(
                    "POST",
                    stack.gatewayBase + "/api/clusters/\(a.id)/agent-key",
                    key: stack.adminKey,
                    body: #"{"overlap_seconds":0}"#
                )
                let second = try #require(rotated.json["agent_key"] as? String, "\(rotated.json)")
                func within(_ limit: Duration, _ key: String, becomes status: Int) async throws -> Bool {
                    let deadline = ContinuousClock.now + limit
                    while ContinuousClock.now < deadline {
                        if try await poll(key) == status { return true }
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    return false
                }
                #expect(try await within(.seconds(5), second, becomes: 200), "the new key works at once")
                #expect(try await within(.seconds(40), a.key, becomes: 401), "the old key ends (no overlap asked)")
                let revoked = try await HTTP.call("DELETE", stack.gatewayBase + "/api/clusters/\(a.id)/agent-key", key: stack.adminKey)
                #expect(revoked.status == 200)
                #expect(try await within(.seconds(40), second, becomes: 401), "a revoked key stops working")
            }
        }

        @Test func aLongPollIsAnsweredUnderASecondAfterTheDeployRequest() async throws {
            let stack = try AgentStack()
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-lp")
                let body = #"{"agent_id":"t-1","agent_version":"test","hostname":"hv","capabilities":["lxd"],"max_jobs":1}"#
                async let answer = AgentHTTP.post(stack.agentServer + "/api/agent/v1/poll/\(a.id)?wait=30", agentKey: a.key, body: body)
                try await Task.sleep(for: .milliseconds(500))
                let sent = ContinuousClock.now
                let id = try await stack.deploy(cluster: a.id, instance: "agent-lp-1")
                let reply = try await answer
                let pickup = ContinuousClock.now - sent
                let jobs = reply.json["jobs"] as? [[String: Any]] ?? []
                #expect(jobs.first?["deployment_id"] as? String == id, "\(reply.text)")
                #expect(pickup < .seconds(1), "pickup took \(pickup)")
                // Our own v1 poll with the other cluster's id and this key: 401.
                let b = try await stack.registerAgentCluster("agent-lp-b")
                #expect(try await AgentHTTP.post(stack.agentServer + "/api/agent/v1/poll/\(b.id)?wait=0", agentKey: a.key, body: body).status == 401)
            }
        }

        @Test func aSilentAgentsLeaseRunsOutAndTheJobIsHandedOutAgainWithTheSameId() async throws {
            let stack = try AgentStack(leaseSeconds: 3)
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-lease")
                let id = try await stack.deploy(cluster: a.id, instance: "agent-lease-1")
                #expect(try await stack.waitForStatus(id, "queued", within: .seconds(20)))
                let body = #"{"agent_id":"dies","agent_version":"test","hostname":"hv","capabilities":["lxd"],"max_jobs":1}"#
                let first = try await AgentHTTP.post(stack.agentServer + "/api/agent/v1/poll/\(a.id)?wait=10", agentKey: a.key, body: body)
                #expect((first.json["jobs"] as? [[String: Any]])?.first?["deployment_id"] as? String == id)
                // Another agent waits: nothing while the lease holds, the same job once it runs out.
                let other = #"{"agent_id":"lives","agent_version":"test","hostname":"hv2","capabilities":["lxd"],"max_jobs":1}"#
                let waited = ContinuousClock.now
                let second = try await AgentHTTP.post(stack.agentServer + "/api/agent/v1/poll/\(a.id)?wait=20", agentKey: a.key, body: other)
                let elapsed = ContinuousClock.now - waited
                #expect((second.json["jobs"] as? [[String: Any]])?.first?["deployment_id"] as? String == id, "\(second.text)")
                #expect(elapsed > .seconds(1) && elapsed < .seconds(8), "handed out again after the 3 s lease: \(elapsed)")
                // The first agent has lost its lease.
                let renew = try await AgentHTTP.post(stack.agentServer + "/api/agent/v1/lease/\(id)", agentKey: a.key, body: #"{"agent_id":"dies"}"#)
                #expect(renew.status == 409)
            }
        }

        @Test func aBrokerRestartedWithJobsPendingLosesNothing() async throws {
            let stack = try AgentStack()
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-restart")
                let ids = [
                    try await stack.deploy(cluster: a.id, instance: "agent-rs-1"), try await stack.deploy(cluster: a.id, instance: "agent-rs-2"),
                ]
                for id in ids { #expect(try await stack.waitForStatus(id, "queued", within: .seconds(20))) }
                try await Task.sleep(for: .milliseconds(500))  // the broker acks once the job is in its database
                try await stack.stopBroker(signal: SIGKILL)
                // A third job arrives while the broker is down: it waits on the bus.
                let third = try await stack.deploy(cluster: a.id, instance: "agent-rs-3")
                try stack.startBroker()
                try await stack.waitForBroker()
                var seen = Set<String>()
                let deadline = ContinuousClock.now + .seconds(20)
                while seen.count < 3, ContinuousClock.now < deadline {
                    let poll = try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(a.id)", agentKey: a.key, body: "")
                    for item in poll.json["deployments"] as? [[String: Any]] ?? [] { seen.insert(item["deployment_id"] as? String ?? "") }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(seen == Set(ids + [third]))
            }
        }
    }
}
