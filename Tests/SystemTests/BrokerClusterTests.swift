import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// The services on a three-node RabbitMQ cluster, given all three URLs: the node that leads the
/// job queues dies (SIGKILL) in the middle of a batch of 10 deployments to real LXD, and every
/// deployment still ends `completed` with exactly one instance.
@Suite(
    "Broker cluster failover (3 RabbitMQ nodes, real LXD)",
    .serialized,
    .enabled(
        if: BrokerCluster.ready && TestLXD.unixSocket != nil,
        "set ICESHELVES_TEST_RMQ_CLUSTER=1 with its URLs and nodes, and bring up LXD (scripts/test does)"
    )
)
struct BrokerClusterTests {
    static let batch = 10

    @Test(.timeLimit(.minutes(10)))
    func theJobQueuesLeaderDiesMidBatchAndEveryDeploymentCompletesOnce() async throws {
        let urls = try #require(BrokerCluster.urls)
        let lxdConnection = try #require(TestLXD.unixSocket)
        let prefix = "broker-cluster-\(UUID().uuidString.prefix(6).lowercased())"
        let stack = try await LXDStack(gatewayStandIn: false, url: urls)
        var gateway: RESTGateway?
        var ids: [String] = []
        do {
            try await stack.startDeployer()
            try await stack.startDeployer()
            let gw = try await RESTGateway(url: urls, arguments: ["--allowed-hosts", "loopback"])
            gateway = gw
            let cluster = try await HTTP.call(
                "POST",
                gw.base + "/api/clusters",
                key: gw.key,
                body: #"{"name":"\#(prefix)","connection_method":"unix-socket","socket_path":"\#(lxdConnection.socketPath)"}"#
            )
            let clusterId = try #require(cluster.json["cluster_id"] as? Int, "\(cluster.json)")
            for i in 1...Self.batch {
                let accepted = try await HTTP.call(
                    "POST",
                    gw.base + "/api/deploy",
                    key: gw.key,
                    body: #"{"egg_id":"debian-hello","cluster_id":\#(clusterId),"instance_name":"\#(prefix)-\#(i)","variables":{"greeting":"hi"}}"#
                )
                ids.append(try #require(accepted.json["deployment_id"] as? String, "\(accepted.json)"))
            }

            // The middle of the batch: deployers are working on some jobs while others still wait.
            let busy = ContinuousClock.now + .seconds(180)
            var statuses = try await Self.statuses(ids, gw)
            while statuses.values.filter({ $0 == "in_progress" }).count < 3 && !statuses.values.contains("completed") && .now < busy {
                try await Task.sleep(for: .milliseconds(250))
                statuses = try await Self.statuses(ids, gw)
            }
            #expect(statuses.values.contains { $0 != "completed" }, "the batch ended before the node could be stopped: \(statuses)")
            let leader = try #require(try BrokerCluster.leader(of: TargetType.lxd.deployQueue, askingNode: 1), "no leader for deploy.lxd")
            let pid = try BrokerCluster.crash(leader)
            let asking = leader == 0 ? 1 : 0
            print("killed \(BrokerCluster.name(leader)) (pid \(pid)), the leader of deploy.lxd, with \(statuses.values.sorted())")

            // The job queues elect a new leader among the two nodes left, and the services move over.
            let elected = ContinuousClock.now + .seconds(60)
            var newLeader: Int?
            while .now < elected {
                newLeader = try BrokerCluster.leader(of: TargetType.lxd.deployQueue, askingNode: asking)
                if let newLeader, newLeader != leader { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(newLeader != nil && newLeader != leader, "deploy.lxd has no new leader")

            let end = ContinuousClock.now + .seconds(420)
            while statuses.values.contains(where: { !["completed", "failed", "timeout", "cancelled"].contains($0) }) && .now < end {
                try await Task.sleep(for: .seconds(1))
                statuses = try await Self.statuses(ids, gw)
            }
            for id in ids { #expect(statuses[id] == "completed", "deployment \(id) ended \(statuses[id] ?? "nowhere")") }

            // Nothing duplicated: one instance per deployment, and none besides ours.
            let lxd = try await LXDConnector(timeout: .seconds(10), logger: Logger(label: "broker-cluster-test")).connect(lxdConnection)
            defer { lxd.close() }
            let ours = try await lxd.instances().filter { $0.name.hasPrefix(prefix) }
            for id in ids {
                let mine = ours.filter { $0.config["user.iceshelves.deployment-id"] == id }
                #expect(mine.count == 1, "deployment \(id) has \(mine.map(\.name))")
            }
            #expect(ours.count == Self.batch, "\(ours.map(\.name))")
            // Nothing lost or stuck: the job queues are empty, and no job was dead-lettered.
            for queue in [BusNames.renderQueue, TargetType.lxd.deployQueue] {
                let settled = ContinuousClock.now + .seconds(30)
                var depth = try await stack.client.queueDepth(queue)
                while depth > 0 && .now < settled {
                    try await Task.sleep(for: .milliseconds(200))
                    depth = try await stack.client.queueDepth(queue)
                }
                #expect(depth == 0, "\(queue) still holds \(depth) jobs")
            }
            let letters = try await HTTP.call("GET", gw.base + "/api/admin/dead-letters", key: gw.key)
            #expect(letters.json["total"] as? Int == 0, "dead letters: \(letters.json)")
        } catch {
            await Self.cleanUp(ids, gateway, stack)
            throw error
        }
        await Self.cleanUp(ids, gateway, stack)
    }

    /// Every deployment's status in the gateway's ledger.
    static func statuses(_ ids: [String], _ gateway: RESTGateway) async throws -> [String: String] {
        var result: [String: String] = [:]
        for id in ids {
            result[id] = try await HTTP.call("GET", gateway.base + "/api/deployments/\(id)", key: gateway.key).json["status"] as? String ?? "unknown"
        }
        return result
    }

    /// Removes the instances through the API, then stops the gateway and the stack.
    static func cleanUp(_ ids: [String], _ gateway: RESTGateway?, _ stack: LXDStack) async {
        if let gateway {
            for id in ids {
                let reply = try? await HTTP.call("DELETE", gateway.base + "/api/deployments/\(id)/cleanup", key: gateway.key)
                #expect(reply?.status == 200, "cleanup of \(id): \(reply?.json ?? [:])")
            }
            gateway.stop()
        }
        await stack.stop()
    }
}
