import IceShelvesBus
import IceShelvesContracts
import Logging
import Synchronization
import Testing

@testable import ApiGateway

@Suite("cluster.connection: who may fetch a cluster's secrets")
struct ConnectionGrantsTests {
    func grants(_ h: Harness) -> ConnectionGrants {
        ConnectionGrants(
            clusters: h.gateway.clusters,
            ledger: h.gateway.ledger,
            deployerUsers: ["lxd-deployer"],
            ownUser: "api-gateway",
            egress: EgressGuard(policy: HostPolicy("loopback")),
            logger: Logger(label: "grants-test")
        )
    }

    /// Registers a cluster and deploys to it through the router; returns the cluster and deployment ids.
    func deployment(_ h: Harness) async throws -> (cluster: String, deployment: String) {
        let id = Mutex("")
        try await h.run { c in
            let cluster = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json:
                    #"{"name":"ssh-one","connection_method":"ssh","ssh_host":"127.0.0.1","ssh_user":"root","ssh_key":"-----BEGIN OPENSSH PRIVATE KEY-----\nTOPSECRET\n-----END OPENSSH PRIVATE KEY-----\n","ssh_host_key_fingerprint":"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}"#
            )
            #expect(cluster.status == .created, "\(cluster.text)")
            let r = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":\#(cluster.json["cluster_id"] as? Int ?? 0),"instance_name":"web-1"}"#
            )
            #expect(r.status == .created, "\(r.text)")
            id.withLock { $0 = r.json["deployment_id"] as? String ?? "" }
        }
        let deploymentId = id.withLock { $0 }
        let d = try #require(try await h.gateway.ledger.get(deploymentId))
        return (String(d.clusterId), deploymentId)
    }

    @Test func aDeployerGetsTheConnectionOfItsDeploymentsCluster() async throws {
        let h = try await Harness()
        let (cluster, deployment) = try await deployment(h)
        let grant = try await grants(h).grant(.init(clusterId: cluster, deploymentId: deployment), caller: "lxd-deployer")
        #expect(grant.connection.method == .ssh)
        #expect(grant.connection.pinnedAddress == "127.0.0.1", "the deployer connects to the address the gateway checked")
        #expect(grant.connection.sshKey?.contains("TOPSECRET") == true)
        #expect(!grant.connection.description.contains("TOPSECRET"))
    }

    @Test func anotherBrokerUserIsRefused() async throws {
        let h = try await Harness()
        let (cluster, deployment) = try await deployment(h)
        for caller in ["cloud-init-renderer", "egg-catalog", nil] as [String?] {
            let error = await #expect(throws: RPCError.self) {
                try await grants(h).grant(.init(clusterId: cluster, deploymentId: deployment), caller: caller)
            }
            #expect(error?.code == "forbidden")
        }
        // One shared account for every service (a development setup): the broker cannot tell them apart.
        _ = try await grants(h).grant(.init(clusterId: cluster, deploymentId: deployment), caller: "api-gateway")
    }

    @Test func aDeploymentOfAnotherClusterOrNoneIsRefused() async throws {
        let h = try await Harness()
        let (cluster, deployment) = try await deployment(h)
        let wrongCluster = await #expect(throws: RPCError.self) {
            try await grants(h).grant(.init(clusterId: "999", deploymentId: deployment), caller: "lxd-deployer")
        }
        #expect(wrongCluster?.code == "not_found")
        let noDeployment = await #expect(throws: RPCError.self) {
            try await grants(h).grant(.init(clusterId: cluster, deploymentId: "nope"), caller: "lxd-deployer")
        }
        #expect(noDeployment?.code == "not_found")
        let missing = await #expect(throws: RPCError.self) {
            try await grants(h).grant(.init(clusterId: cluster, deploymentId: nil), caller: "lxd-deployer")
        }
        #expect(missing?.code == "not_found")
        _ = try await grants(h).grant(.init(clusterId: cluster, deploymentId: nil, purpose: .test), caller: "lxd-deployer")
    }

    @Test func anEndpointOutsideTheEgressPolicyIsRefusedWhenTheConnectionIsMade() async throws {
        let h = try await Harness()
        let (cluster, deployment) = try await deployment(h)
        let strict = ConnectionGrants(
            clusters: h.gateway.clusters,
            ledger: h.gateway.ledger,
            deployerUsers: ["lxd-deployer"],
            ownUser: "api-gateway",
            egress: EgressGuard(policy: HostPolicy(nil)),
            logger: Logger(label: "grants-test")
        )
        let error = await #expect(throws: RPCError.self) {
            try await strict.grant(.init(clusterId: cluster, deploymentId: deployment), caller: "lxd-deployer")
        }
        #expect(error?.code == "forbidden")
        #expect(error?.message.contains("loopback") == true, "\(error?.message ?? "")")
    }
}
