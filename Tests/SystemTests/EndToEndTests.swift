import Foundation
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// The whole platform (``PlatformStack``: broker with a user per service, catalog, renderer,
/// gateway, two lxd-deployers, kvm-deployer, agent-broker and an agent) driven through REST only,
/// as a user's script would: the offline egg over each way of reaching LXD and as a VM, and a
/// batch of 10 spread over both deployers; every instance checked from the inside, everything
/// removed through the API, and nothing left on LXD or libvirt.
@Suite(
    "End to end (the whole platform through REST: real LXD, libvirt, RabbitMQ, agent)",
    .serialized,
    .enabled(if: PlatformStack.ready, "set ICESHELVES_TEST_E2E_AMQP_URL with LXD and KVM up (scripts/test does)")
)
struct EndToEndTests {
    let connector = LXDConnector(timeout: .seconds(10), logger: Logger(label: "e2e-test"))
    /// Every instance of a run starts with it, so a run that was interrupted leaves nothing in the next one's way.
    let tag = "e2e-\(UUID().uuidString.prefix(6).lowercased())"
    let greeting = "hello end to end"

    struct Deployment {
        var label: String
        var id: String
        var name: String
        /// Where the instance is checked from: the local daemon, or the 2-member cluster.
        var onCluster = false
    }

    @Test(
        "direct-API, SSH and agent-poll LXD, a KVM VM and a batch of 10 over two deployers: checked inside, cleaned up, nothing left",
        .timeLimit(.minutes(15))
    )
    func everyPathThroughREST() async throws {
        try await PlatformStack.with(lxdDeployers: 2) { stack in
            try await SystemEnvironment.run({ try await run(stack) }, finally: { await sweep() })
        }
    }

    func run(_ stack: PlatformStack) async throws {
        let https = try #require(TestLXD.https)
        let ssh = try #require(TestLXD.ssh)
        let cluster = try #require(TestLXD.cluster)
        let started = ContinuousClock.now

        // The KVM VM first: under TCG it boots in about two minutes, while the LXD work goes on.
        let kvm = try await KVMDeployTests.register(base: stack.base, key: stack.key, KVMDeployTests.settings, name: "\(tag)-kvm")
        let vmName = "\(tag)-vm"
        let vm = try #require(try await stack.deploy(KVMDeployTests.deployBody(cluster: kvm, name: vmName, greeting: greeting)).first)

        let direct = try await stack.registerCluster(directAPI("\(tag)-https", https))
        let viaSSH = try await stack.registerCluster([
            "name": "\(tag)-ssh", "connection_method": "ssh", "ssh_host": ssh.sshHost ?? "", "ssh_port": ssh.sshPort ?? 22,
            "ssh_user": ssh.sshUser ?? "root", "ssh_key": ssh.sshKey ?? "", "ssh_host_key_fingerprint": ssh.sshHostKeyFingerprint ?? "",
            "socket_path": ssh.socketPath,
        ])
        let agent = try await stack.registerCluster(["name": "\(tag)-agent", "connection_method": "agent-poll", "agent_poll_interval": 2])
        try stack.startAgent(cluster: agent.id, agentKey: try #require(agent.agentKey))
        let batchCluster = try await stack.registerCluster(directAPI("\(tag)-cluster", cluster))

        var deployments: [Deployment] = []
        for (label, clusterId) in [("direct-api", direct.id), ("ssh", viaSSH.id), ("agent-poll", agent.id)] {
            let d = try #require(try await stack.deploy(egg(clusterId, name: "\(tag)-\(label)")).first)
            deployments.append(Deployment(label: label, id: d.id, name: d.name))
        }
        var batchBody = egg(batchCluster.id, name: nil)
        batchBody["count"] = 10
        batchBody["name_pattern"] = "\(tag)-b{n}"
        let batch = try await stack.deploy(batchBody)
        #expect(batch.count == 10)
        deployments += batch.map { Deployment(label: "batch", id: $0.id, name: $0.name, onCluster: true) }

        // Every LXD deployment completes, each one seen from its own deployment's record.
        let statuses = try await stack.waitForTerminal(deployments.map(\.id), within: .seconds(420))
        for d in deployments where statuses[d.id] != "completed" {
            Issue.record("\(d.label) \(d.name) ended \(statuses[d.id] ?? "?"): \(try await stack.deployment(d.id)["logs"] ?? "")")
        }
        let lxdDone = ContinuousClock.now - started

        // Both lxd-deployers took jobs (direct-api, ssh and the batch: 12; the agent did its own).
        var taken: [Int] = []
        for n in 1...stack.lxdDeployers { taken.append(try await stack.completedByDeployer(n)) }
        #expect(taken.allSatisfy { $0 > 0 }, "deployments completed per lxd-deployer: \(taken)")
        for (i, n) in taken.enumerated() where n == 0 {
            Issue.record("\(PlatformStack.Role.lxdDeployer(i + 1)) completed none: \(stack.logTail(.lxdDeployer(i + 1)))")
        }
        #expect(taken.reduce(0, +) == 12, "deployments completed per lxd-deployer: \(taken)")
        var members: [String: Int] = [:]
        for d in deployments where d.onCluster { members[try await instanceInfo(stack, d.id)["member"] as? String ?? "?", default: 0] += 1 }

        // Inside every instance: the egg's files, cloud-init done, cloud-init's instance-id.
        let local = try await connector.connect(try #require(TestLXD.unixSocket))
        defer { local.close() }
        let onCluster = try await connector.connect(cluster)
        defer { onCluster.close() }
        for d in deployments where statuses[d.id] == "completed" {
            let lxd = d.onCluster ? onCluster : local
            let instance = try #require(try await lxd.instance(d.name), "\(d.label): no instance \(d.name)")
            #expect(instance.config[LXDInstancePlan.deploymentIdKey] == d.id, "\(d.name) carries its deployment's marker")
            try await InsideChecks.lxd(lxd, d.name, greeting: greeting, deploymentId: d.id)
        }

        // Cleaned up through the API; an agent-poll cluster names the command to run on its hypervisor.
        for d in deployments {
            let r = try await stack.call("DELETE", "/api/deployments/\(d.id)/cleanup")
            if d.label == "agent-poll" {
                let command = "lxc delete \(d.name) --force"
                #expect(r.status == 409 && "\(r.json)".contains(command), "\(r.status) \(r.json)")
                let socket = try #require(TestLXD.unixSocket).socketPath
                let removed = try Tool.run(
                    "/usr/bin/env",
                    ["LXD_DIR=" + (socket as NSString).deletingLastPathComponent, "lxc", "delete", d.name, "--force"]
                )
                #expect(removed.status == 0, "\(command): \(removed.output)")
            } else {
                #expect(r.status == 200 && r.json["removed"] as? Bool == true, "cleanup of \(d.label) \(d.name): \(r.status) \(r.json)")
            }
        }

        // The VM: completed, checked inside, cleaned up through the API.
        let vmStatus = try await stack.waitForTerminal([vm.id], within: .seconds(700) - (ContinuousClock.now - started))[vm.id]
        if vmStatus != "completed" {
            Issue.record("the VM ended \(vmStatus ?? "?"): \(try await stack.deployment(vm.id)["logs"] ?? "")")
        } else {
            #expect(try await instanceInfo(stack, vm.id)["mac"] != nil)
            try await InsideChecks.kvm(
                vmName,
                greeting: greeting,
                settings: KVMDeployTests.settings,
                poolDir: KVMDeployTests.env["ICESHELVES_TEST_KVM_POOL_DIR"] ?? ""
            )
            let r = try await stack.call("DELETE", "/api/deployments/\(vm.id)/cleanup")
            #expect(r.status == 200 && r.json["removed"] as? Bool == true, "cleanup of the VM: \(r.status) \(r.json)")
        }

        // Nothing of these deployments is left on LXD or libvirt.
        let ids = Set(deployments.map(\.id))
        for lxd in [local, onCluster] {
            let left = try await lxd.instances().filter { ids.contains($0.config[LXDInstancePlan.deploymentIdKey] ?? "") || $0.name.hasPrefix(tag) }
            #expect(left.isEmpty, "left on LXD: \(left.map(\.name))")
        }
        #expect(try await KVMDeployTests.leftovers(vmName).isEmpty, "left on libvirt")
        print(
            "end to end: LXD (13 deployments) \(lxdDone), all with the VM \(ContinuousClock.now - started), per deployer \(taken), batch per member \(members)"
        )
    }

    /// The `POST /api/deploy` body of the offline egg (one, or with `count` a batch).
    func egg(_ cluster: Int, name: String?) -> [String: Any] {
        var body: [String: Any] = ["egg_id": "debian-hello", "cluster_id": cluster, "variables": ["greeting": greeting]]
        if let name { body["instance_name"] = name }
        return body
    }

    /// A direct-API registration with the test client certificate and the server's certificate pinned.
    func directAPI(_ name: String, _ c: ClusterConnection) -> [String: Any] {
        [
            "name": name, "connection_method": "direct-api", "endpoint_url": c.endpointURL ?? "", "client_cert": c.clientCert ?? "",
            "client_key": c.clientKey ?? "", "server_cert": c.serverCert ?? "",
        ]
    }

    func instanceInfo(_ stack: PlatformStack, _ id: String) async throws -> [String: Any] {
        try await stack.deployment(id)["instance_info"] as? [String: Any] ?? [:]
    }

    /// After a failure: removes whatever instance or VM of this run is left (the check above reports it).
    func sweep() async {
        for connection in [TestLXD.unixSocket, TestLXD.cluster].compactMap({ $0 }) {
            guard let lxd = try? await connector.connect(connection) else { continue }
            defer { lxd.close() }
            for i in (try? await lxd.instances()) ?? [] where i.name.hasPrefix(tag) {
                if let stop = try? await lxd.changeState(i.name, action: "stop", force: true) { _ = try? await lxd.wait(stop, timeout: .seconds(60)) }
                if let delete = try? await lxd.deleteInstance(i.name) { _ = try? await lxd.wait(delete, timeout: .seconds(60)) }
            }
        }
        try? await KVMDeployTests.removeVM("\(tag)-vm")
    }
}
