import Foundation
import Hummingbird
import IceShelvesContracts
import Testing

@testable import ApiGateway

@Suite("Gateway: KVM clusters")
struct KVMClusterTests {
    static let sshKey = "-----BEGIN OPENSSH PRIVATE KEY-----\\nTOPSECRET\\n-----END OPENSSH PRIVATE KEY-----\\n"

    @Test func registrationChecksTheURIAndWhatItsTransportNeeds() async throws {
        let h = try await Harness()
        try await h.run { c in
            let bad = [
                #"{"name":"k","connection_method":"libvirt"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu+tcp://127.0.0.1/system"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu+ssh://root@h/system?command=/bin/sh"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu+ssh://root@h/system","ssh_key":"\#(Self.sshKey)"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu+tls://h/system","client_cert":"x"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"xen:///system"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu:///system","domain_type":"lxc"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu:///system","storage_pool":"a b"}"#,
                #"{"name":"k","connection_method":"libvirt","libvirt_uri":"qemu:///system","hypervisor":"lxd"}"#,
                #"{"name":"k","connection_method":"unix-socket","hypervisor":"kvm"}"#,
            ]
            for body in bad {
                let r = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: body)
                #expect(r.status == .badRequest, "\(body)")
                #expect(r.json["success"] as? Bool == false)
            }
            let ssh = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"""
                    {"name":"kvm-ssh","hypervisor":"kvm","connection_method":"libvirt","libvirt_uri":"qemu+ssh://root@10.0.0.5:2222/system",
                     "ssh_key":"\#(Self.sshKey)","ssh_host_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==","storage_pool":"iceshelves","network":"isolated","domain_type":"qemu"}
                    """#
            )
            #expect(ssh.status == .created)
            let detail = try await c.call(.get, "/iceshelves/api/clusters/1", key: h.viewer)
            #expect(!detail.text.contains("TOPSECRET"))
            let data = try #require(detail.json["data"] as? [String: Any])
            #expect(data["hypervisor"] as? String == "kvm")
            #expect(data["libvirt_uri"] as? String == "qemu+ssh://root@10.0.0.5:2222/system")
            #expect(data["storage_pool"] as? String == "iceshelves")
            #expect(data["domain_type"] as? String == "qemu")
            let test = try await c.call(.post, "/iceshelves/api/clusters/1/test", key: h.operatorKey)
            #expect(test.json["status"] as? String == "active")
            let details = try #require(test.json["details"] as? [String: Any])
            #expect(details["hypervisor_version"] as? String == "7.2.0")
            #expect((details["pools"] as? [Any])?.count == 1)
            let list = try await c.call(.get, "/iceshelves/api/clusters", key: h.viewer)
            #expect(list.text.contains("\"hypervisor\":\"kvm\""))
        }
    }

    @Test func theClusterKindDecidesTheTargetAndTheEggTypeMustAllowIt() async throws {
        let h = try await Harness()
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"lxd","connection_method":"unix-socket"}"#)
            _ = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"{"name":"kvm","hypervisor":"kvm","connection_method":"libvirt","libvirt_uri":"qemu:///system"}"#
            )
            // A hybrid egg goes to either, as the cluster's kind says.
            let vm = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":2,"instance_name":"vm-1"}"#
            )
            #expect(vm.status == .created, "\(vm.text)")
            let ct = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"ct-1"}"#
            )
            #expect(ct.status == .created)
            let submitted = h.bus.submitted.withLock { $0 }
            #expect(submitted.map(\.target) == [.kvm, .lxd])
            #expect(submitted.first?.destination?.clusterId == "2")
            // A kvm-vm egg on an LXD cluster, or a deployment_type the cluster cannot take: 400 with a message.
            let wrong = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":3,"cluster_id":1,"instance_name":"x"}"#
            )
            #expect(wrong.status == .badRequest)
            #expect((wrong.json["error"] as? String)?.contains("kvm-vm") == true)
            let type = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":2,"instance_name":"x","deployment_type":"lxd"}"#
            )
            #expect(type.status == .badRequest)
            #expect((type.json["error"] as? String)?.contains("kvm cluster") == true)
            let fine = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":3,"cluster_id":2,"instance_name":"vm-2"}"#
            )
            #expect(fine.status == .created)
        }
    }
}
