import Foundation
import IceShelvesContracts
import IceShelvesLibvirt
import Testing

/// Our `iceshelves-agent` deploying the offline egg as a real VM (TCG) to the local libvirt
/// (scripts/kvm-env) through the agent-broker, with the kvm-deployer's steps; the original
/// agent's poll never gets that job.
extension AgentSystemTests {
    @Suite(
        "iceshelves-agent KVM deployments (real libvirtd, QEMU, RabbitMQ, gateway, agent-broker)",
        .serialized,
        .enabled(
            if: AgentStack.ready && KVMDeployTests.env["ICESHELVES_TEST_KVM_URI"] != nil,
            "run scripts/kvm-env up and set ICESHELVES_TEST_AGENT_AMQP_URL (scripts/test does)"
        )
    )
    struct AgentKVMDeployTests {
        @Test func theAgentBootsAVMThroughTheLocalLibvirtAndTheOriginalAgentNeverGetsIt() async throws {
            let stack = try AgentStack(leaseSeconds: 60)
            let s = KVMDeployTests.settings
            let name = "issue-11-kvm-\(UUID().uuidString.prefix(6).lowercased())"
            func removeVM() async throws { try await KVMDeployTests.removeVM(name) }
            do {
                try await stack.run {
                    let r = try await HTTP.call(
                        "POST",
                        stack.gatewayBase + "/api/clusters",
                        key: stack.adminKey,
                        body: #"{"name":"agent-kvm","connection_method":"agent-poll","hypervisor":"kvm","agent_poll_interval":5}"#
                    )
                    try #require(r.status == 201, "\(r.json)")
                    let cluster = try #require(r.json["cluster_id"] as? Int)
                    let key = try #require(r.json["agent_key"] as? String)
                    let body = KVMDeployTests.deployBody(cluster: cluster, name: name, greeting: "hello from an agent's VM")
                    let accepted = try await HTTP.call(
                        "POST",
                        stack.gatewayBase + "/api/deploy",
                        key: stack.adminKey,
                        body: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
                    )
                    let id = try #require(accepted.json["deployment_id"] as? String, "\(accepted.json)")
                    // Queued: the job is on its way to the broker. The original agent's poll never gets it.
                    #expect(try await stack.waitForStatus(id, "queued", within: .seconds(30)))
                    try await Task.sleep(for: .seconds(1))
                    let original = try await AgentHTTP.post(stack.agentServer + "/api/agent/poll/\(cluster)", agentKey: key, body: "")
                    #expect(original.status == 200 && (original.json["deployments"] as? [Any])?.isEmpty == true, "\(original.text)")

                    _ = try stack.launch(
                        "iceshelves-agent",
                        arguments: ["--cloud-init-timeout", "800"],
                        environment: [
                            "ICESHELVES_SERVER": stack.agentServer, "ICESHELVES_CLUSTER_ID": String(cluster), "ICESHELVES_AGENT_KEY": key,
                            "ICESHELVES_LIBVIRT_URI": s.uri, "ICESHELVES_LIBVIRT_POOL": s.storagePool, "ICESHELVES_LIBVIRT_NETWORK": s.network,
                            "ICESHELVES_LIBVIRT_DOMAIN_TYPE": s.domainType, "ICESHELVES_KVM_ALLOW_INSECURE": "1",
                        ]
                    )
                    let done = try await stack.waitForStatus(id, "completed", within: .seconds(900))
                    let detail = try await stack.deployment(id)
                    #expect(done, "\(detail)")
                    let data = detail["data"] as? [String: Any] ?? detail
                    #expect((data["instance_info"] as? [String: Any])?["mac"] != nil, "\(detail)")

                    let c = try await LibvirtConnection.open(s.uri)
                    #expect(try await c.domainNames().filter { $0 == name }.count == 1)
                    let console = String(decoding: try await c.download(volume: name + "-console.log", pool: s.storagePool), as: UTF8.self)
                    #expect(console.contains("ICESHELVES-CLOUD-INIT-DONE"))
                    #expect(console.contains("debian-hello is ready"))
                }
            } catch {
                try? await removeVM()
                throw error
            }
            // No domain or volume of this test stays behind.
            try await removeVM()
            #expect(try await KVMDeployTests.leftovers(name).isEmpty)
        }
    }
}
