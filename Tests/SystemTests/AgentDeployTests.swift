import Foundation
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// Our `iceshelves-agent` deploying the offline test egg to real LXD through the agent-broker,
/// with cloud-init checked inside the container, and an agent killed mid-job.
extension AgentSystemTests {
    @Suite(
        "iceshelves-agent deployments (real LXD, RabbitMQ, gateway, agent-broker)",
        .serialized,
        .enabled(
            if: AgentStack.ready && TestLXD.unixSocket != nil,
            "run scripts/lxd-env up and set ICESHELVES_TEST_AGENT_AMQP_URL (scripts/test does)"
        )
    )
    struct AgentDeployTests {
        let connector = LXDConnector(timeout: .seconds(10), logger: Logger(label: "agent-deploy-test"))
        static let socket = ProcessInfo.processInfo.environment["ICESHELVES_TEST_LXD_SOCKET"] ?? ClusterConnection.defaultSocketPath

        static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())" }

        func startAgent(_ stack: AgentStack, cluster: Int, key: String) throws -> Process {
            try stack.launch(
                "iceshelves-agent",
                arguments: ["--poll-interval", "5", "--cloud-init-timeout", "180"],
                environment: [
                    "ICESHELVES_SERVER": stack.agentServer,
                    "ICESHELVES_CLUSTER_ID": String(cluster),
                    "ICESHELVES_AGENT_KEY": key,
                    "LXD_DIR": (Self.socket as NSString).deletingLastPathComponent,
                ]
            )
        }

        /// The instances carrying this deployment's marker.
        func instances(of deploymentId: String) async throws -> [LXDInstance] {
            let lxd = try await connector.connect(.unixSocket(Self.socket))
            defer { lxd.close() }
            var mine: [LXDInstance] = []
            for i in try await lxd.instances() {
                if let full = try await lxd.instance(i.name), full.config[LXDInstancePlan.deploymentIdKey] == deploymentId { mine.append(full) }
            }
            return mine
        }

        func checkAndRemove(_ name: String) async throws {
            let lxd = try await connector.connect(.unixSocket(Self.socket))
            defer { lxd.close() }
            try await InsideChecks.lxd(lxd, name, greeting: "agent")
            let stop = try await lxd.changeState(name, action: "stop", force: true)
            _ = try await lxd.wait(stop, timeout: .seconds(60))
            _ = try await lxd.wait(try await lxd.deleteInstance(name), timeout: .seconds(60))
        }

        @Test func theAgentDeploysTheOfflineEggAndCloudInitRuns() async throws {
            let stack = try AgentStack(leaseSeconds: 6)
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-lxd")
                _ = try startAgent(stack, cluster: a.id, key: a.key)
                let name = Self.unique("issue-11-ag")
                let id = try await stack.deploy(cluster: a.id, instance: name)
                let done = try await stack.waitForStatus(id, "completed", within: .seconds(240))
                let detail = try await stack.deployment(id)
                #expect(done, "\(detail)")
                if done {
                    try await checkAndRemove(name)
                }
            }
        }

        @Test func anAgentKilledMidJobLeavesExactlyOneInstanceAfterTheLeaseRunsOut() async throws {
            let stack = try AgentStack(leaseSeconds: 5)
            try await stack.run {
                let a = try await stack.registerAgentCluster("agent-kill")
                let first = try startAgent(stack, cluster: a.id, key: a.key)
                let name = Self.unique("issue-11-kill")
                let id = try await stack.deploy(cluster: a.id, instance: name)
                // Kill it once the instance exists (mid-job).
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline, try await instances(of: id).isEmpty { try await Task.sleep(for: .milliseconds(200)) }
                kill(first.processIdentifier, SIGKILL)
                _ = try await SystemEnvironment.waitForExit(first, timeout: .seconds(10))
                _ = try startAgent(stack, cluster: a.id, key: a.key)
                let done = try await stack.waitForStatus(id, "completed", within: .seconds(240))
                let logs = "\(try await stack.deployment(id))"
                #expect(done, "\(logs)")
                #expect(try await instances(of: id).count == 1)
                #expect(logs.contains("again"), "the job was handed out again")
                if done { try await checkAndRemove(name) }
            }
        }
    }
}
