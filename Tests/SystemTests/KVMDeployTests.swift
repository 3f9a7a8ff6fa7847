import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLibvirt
import Logging
import Testing

/// The offline egg deployed as a real VM (TCG) through the catalog, the renderer and the
/// kvm-deployer to real libvirtd over qemu+tcp://127.0.0.1 (scripts/kvm-env), and the failure paths.
@Suite(
    "KVM deployments (real libvirtd, QEMU, RabbitMQ)",
    .serialized,
    .enabled(if: KVMStack.ready, "run scripts/kvm-env up and set ICESHELVES_TEST_KVM_AMQP_URL (scripts/test does)")
)
struct KVMDeployTests {
    static let env = ProcessInfo.processInfo.environment
    static var settings: LibvirtSettings {
        LibvirtSettings(
            uri: env["ICESHELVES_TEST_KVM_URI"] ?? "",
            storagePool: env["ICESHELVES_TEST_KVM_POOL"] ?? "",
            network: env["ICESHELVES_TEST_KVM_NETWORK"] ?? "",
            domainType: env["ICESHELVES_TEST_KVM_DOMAIN_TYPE"] ?? "qemu"
        )
    }

    /// Registers a KVM cluster through REST; returns its id.
    static func register(_ rest: RESTGateway, _ libvirt: LibvirtSettings, name: String) async throws -> Int {
        try await register(base: rest.base, key: rest.key, libvirt, name: name)
    }

    /// Registers a KVM cluster with the gateway at `base`; returns its id.
    static func register(base: String, key: String, _ libvirt: LibvirtSettings, name: String) async throws -> Int {
        var fields: [String: Any] = [
            "name": name, "hypervisor": "kvm", "connection_method": "libvirt", "libvirt_uri": libvirt.uri,
            "storage_pool": libvirt.storagePool, "network": libvirt.network, "domain_type": libvirt.domainType,
        ]
        if let k = libvirt.sshKey { fields["ssh_key"] = k }
        if let k = libvirt.sshHostKey { fields["ssh_host_key"] = k }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        let r = try await HTTP.call("POST", base + "/api/clusters", key: key, body: body)
        try #require(r.status == 201, "\(r.json)")
        return try #require(r.json["cluster_id"] as? Int)
    }

    /// The `POST /api/deploy` body of the offline egg as a VM (768 MB, on the test base volume).
    static func deployBody(
        cluster: Int,
        name: String,
        image: String? = env["ICESHELVES_TEST_KVM_BASE_VOLUME"],
        greeting: String = "hello from a VM"
    )
        -> [String: Any]
    {
        [
            "egg_id": "debian-hello", "cluster_id": cluster, "instance_name": name, "image": image ?? "",
            "variables": ["greeting": greeting], "config_overrides": ["memory_mb": "768"],
        ]
    }

    /// Deploys the offline egg through REST and collects its events (from the bus) until a final status.
    static func deploy(
        _ stack: KVMStack,
        _ rest: RESTGateway,
        cluster: Int,
        name: String,
        image: String? = env["ICESHELVES_TEST_KVM_BASE_VOLUME"],
        timeout: Duration = .seconds(120),
        onEvent: (DeploymentEvent) async throws -> Void = { _ in }
    ) async throws -> (id: String, events: [DeploymentEvent]) {
        var id = ""
        let events = try await stack.events(timeout: timeout, onEvent: onEvent) {
            let body = Self.deployBody(cluster: cluster, name: name, image: image)
            let accepted = try await HTTP.call(
                "POST",
                rest.base + "/api/deploy",
                key: rest.key,
                body: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            )
            id = try #require(accepted.json["deployment_id"] as? String, "\(accepted.json)")
            return id
        }
        return (id, events)
    }

    /// Domains and volumes of this instance left on the hypervisor.
    static func leftovers(_ name: String) async throws -> [String] {
        let c = try await LibvirtConnection.open(settings.uri)
        let domains = try await c.domainNames().filter { $0 == name }
        let volumes = try await c.volumeNames(pool: settings.storagePool).filter { $0.hasPrefix(name + "-") }
        return domains + volumes
    }

    /// Removes a VM's domain and volumes, whatever state they are in (a test's own cleanup after a failure).
    static func removeVM(_ name: String) async throws {
        let c = try await LibvirtConnection.open(settings.uri)
        _ = try await c.removeDomain(name)
        for v in VolumePlan(instance: name).all { _ = try await c.deleteVolume(v, pool: settings.storagePool) }
    }

    @Test("through REST a VM boots, cloud-init runs the egg inside it, a kill -9 of the deployer mid-deploy leaves exactly one domain")
    func realVM() async throws {
        try await KVMStack.with { stack in
            let rest = try await RESTGateway(url: KVMStack.url!)
            defer { rest.stop() }
            try await realVM(stack, rest)
        }
    }

    func realVM(_ stack: KVMStack, _ rest: RESTGateway) async throws {
        let first = try await stack.startDeployer()
        let s = Self.settings
        let cluster = try await Self.register(rest, s, name: "kvm")
        let test = try await HTTP.call("POST", rest.base + "/api/clusters/\(cluster)/test", key: rest.key)
        #expect(test.json["status"] as? String == "active", "\(test.json)")
        #expect((test.json["details"] as? [String: Any])?["hypervisor_version"] != nil, "\(test.json)")

        let name = "issue-12-vm-\(UUID().uuidString.prefix(6).lowercased())"
        var killed = false
        let (id, events) = try await Self.deploy(stack, rest, cluster: cluster, name: name, timeout: .seconds(900)) { event in
            // Kill the deployer once the VM has started, then let a fresh one resume the redelivered job.
            if !killed, event.step == .cloudInit {
                killed = true
                kill(first.processIdentifier, SIGKILL)
                _ = try await SystemEnvironment.waitForExit(first, timeout: .seconds(10))
                try await stack.startDeployer()
            }
        }
        let last = try #require(events.last)
        #expect(last.status == .completed, "\(events.map { "\($0.step.rawValue): \($0.message)" })")
        #expect(killed)
        #expect(events.contains { $0.step == .resume })
        #expect(last.details["name"] == name)
        #expect(last.details["mac"]?.isEmpty == false)
        let detail = try await HTTP.call("GET", rest.base + "/api/deployments/\(id)", key: rest.key)
        let data = detail.json["data"] as? [String: Any] ?? detail.json
        #expect((data["instance_info"] as? [String: Any])?["mac"] != nil, "\(detail.json)")

        try await InsideChecks.kvm(name, greeting: "hello from a VM", settings: s, poolDir: Self.env["ICESHELVES_TEST_KVM_POOL_DIR"] ?? "")

        // The cleanup through REST (kvm.cleanup) leaves nothing.
        let cleanup = try await HTTP.call("DELETE", rest.base + "/api/deployments/\(id)/cleanup", key: rest.key)
        #expect(cleanup.json["removed"] as? Bool == true, "\(cleanup.json)")
        #expect(try await Self.leftovers(name).isEmpty)
    }

    @Test("a missing base image, a bad URI and an unknown SSH host key end failed and leave nothing; the pinned SSH host key connects")
    func failures() async throws {
        try await KVMStack.with { stack in
            try await stack.startDeployer()
            let rest = try await RESTGateway(url: KVMStack.url!)
            defer { rest.stop() }
            try await failures(stack, rest)
        }
    }

    func failures(_ stack: KVMStack, _ rest: RESTGateway) async throws {
        let good = try await Self.register(rest, Self.settings, name: "kvm-good")
        let noImage = "issue-12-noimg-\(UUID().uuidString.prefix(6).lowercased())"
        var events = try await Self.deploy(stack, rest, cluster: good, name: noImage, image: "no-such-base.qcow2").events
        #expect(events.last?.status == .failed)
        #expect(events.last?.message.contains("no-such-base.qcow2") == true, "\(events.map(\.message))")
        #expect(try await Self.leftovers(noImage).isEmpty)

        var bad = Self.settings
        bad.uri = "qemu+tcp://127.0.0.1:1/system"
        let badCluster = try await Self.register(rest, bad, name: "kvm-bad-uri")
        events = try await Self.deploy(stack, rest, cluster: badCluster, name: "issue-12-baduri").events
        #expect(events.last?.status == .failed)
        #expect(events.last?.step == .connect, "\(events.map(\.message))")

        var ssh = Self.settings
        let host = Self.env["ICESHELVES_TEST_SSH_HOST"] ?? "127.0.0.1"
        let port = Self.env["ICESHELVES_TEST_SSH_PORT"] ?? "2322"
        ssh.uri = "qemu+ssh://root@\(host):\(port)/system"
        ssh.sshKey =
            (try? String(contentsOfFile: Self.env["ICESHELVES_TEST_SSH_KEY"] ?? "", encoding: .utf8)) ?? "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"
        ssh.sshHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdyb25nIGhvc3Qga2V5IGZvciB0aGUgdGVzdHMgISE="
        let sshCluster = try await Self.register(rest, ssh, name: "kvm-ssh-unknown-key")
        let sshName = "issue-12-sshkey"
        events = try await Self.deploy(stack, rest, cluster: sshCluster, name: sshName).events
        #expect(events.last?.status == .failed)
        #expect(events.last?.step == .connect, "\(events.last?.message ?? "")")
        #expect(events.last?.message.contains("HOST KEY") == true, "\(events.last?.message ?? "")")
        #expect(try await Self.leftovers(sshName).isEmpty)

        // The same host with its real key pinned (the LXD environment's sshd): the test connects over qemu+ssh.
        if let known = try? String(contentsOfFile: Self.env["ICESHELVES_TEST_SSH_KNOWN_HOSTS"] ?? "", encoding: .utf8),
            let line = known.split(separator: "\n").first(where: { $0.contains("ssh-ed25519") })
        {
            ssh.sshHostKey = line.split(separator: " ").dropFirst().prefix(2).joined(separator: " ")
            let pinned = try await Self.register(rest, ssh, name: "kvm-ssh-pinned")
            let viaSSH = try await HTTP.call("POST", rest.base + "/api/clusters/\(pinned)/test", key: rest.key)
            #expect(viaSSH.json["status"] as? String == "active", "\(viaSSH.json)")
        }

        // The connection test (kvm.test) reports the host and its pools; the bad cluster is an error.
        let test = try await HTTP.call("POST", rest.base + "/api/clusters/\(good)/test", key: rest.key)
        let details = test.json["details"] as? [String: Any] ?? [:]
        #expect(test.json["status"] as? String == "active", "\(test.json)")
        #expect((details["resources"] as? [String: Any])?["cpu_cores"] as? Int ?? 0 > 0)
        #expect(details["storage_pool_found"] as? Bool == true)
        #expect(details["network_found"] as? Bool == true)
        let badTest = try await HTTP.call("POST", rest.base + "/api/clusters/\(badCluster)/test", key: rest.key)
        #expect(badTest.status == 503 || badTest.json["status"] as? String == "error", "\(badTest.json)")
    }
}
