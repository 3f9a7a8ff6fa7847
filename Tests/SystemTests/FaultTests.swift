import Foundation
import IceShelvesContracts
import IceShelvesTestSupport
import Testing

/// Faults in the middle of a batch of 10 deployments on the whole platform (catalog, renderer,
/// gateway, agent-broker, lxd-deployer; real RabbitMQ and LXD): each service killed with SIGKILL
/// and started again, the broker restarted, an LXD cluster member's daemon stopped. In every case
/// each deployment ends within the deployment timeout, a completed one has exactly one instance
/// and a failed one none, and no message is left in a queue but the dead-letter queues, whose jobs
/// the API lists. Switched on by `ICESHELVES_TEST_FAULTS=1` (scripts/test sets it with the rest).
@Suite(
    "Faults mid-batch (real RabbitMQ, LXD, every service)",
    .serialized,
    .enabled(
        if: FaultEnvironment.ready,
        "set ICESHELVES_TEST_FAULTS_AMQP_URL, its ctl and restart command, and run scripts/lxd-env up (scripts/test does)"
    )
)
struct FaultTests {
    /// The gateway's `--deployment-timeout`: every deployment of a batch must end within it.
    static let deploymentTimeout = 240

    static func unique(_ prefix: String) -> String { "faults-\(prefix)-\(UUID().uuidString.prefix(5).lowercased())" }

    /// The platform on the fault suite's vhost with one lxd-deployer, the main LXD registered as
    /// a unix-socket cluster; `body` gets the stack and the cluster id. Everything is stopped after.
    func withPlatform(deployerArguments: [String] = [], _ body: (AgentStack, Int) async throws -> Void) async throws {
        let socket = try #require(TestLXD.unixSocket).socketPath
        let stack = try AgentStack(
            leaseSeconds: 10,
            url: FaultEnvironment.url,
            gatewayArguments: [
                "--deployment-timeout", "\(Self.deploymentTimeout)", "--allowed-hosts", "loopback,private", "--allow-insecure-libvirt", "1",
            ]
        )
        try await stack.run {
            _ = try stack.launch("lxd-deployer", arguments: ["--metrics-port=-1", "--cloud-init-timeout", "180"] + deployerArguments)
            let cluster = try await HTTP.call(
                "POST",
                stack.gatewayBase + "/api/clusters",
                key: stack.adminKey,
                body: #"{"name":"local","connection_method":"unix-socket","socket_path":"\#(socket)"}"#
            )
            try #require(cluster.status == 201, "\(cluster.json)")
            try await body(stack, try #require(cluster.json["cluster_id"] as? Int))
        }
    }

    /// A batch of 10 across a fault: 5 deployments are submitted, and once one of them is in
    /// progress (so every service has had a part in it), `inject` breaks something; 5 more are
    /// submitted while it is broken (a refused submit is sent again after `recover`), then
    /// `recover` repairs it. Every deployment must end, and the checks of ``FaultBatch/verify``
    /// hold. The instances are removed whatever happened.
    func batch(
        _ stack: AgentStack,
        cluster: Int,
        target: FaultBatch.Target? = nil,
        prefix: String,
        extra: String = "",
        expectCompleted: Bool = true,
        inject: () async throws -> Void,
        recover: () async throws -> Void = {}
    ) async throws {
        var batch = FaultBatch(stack, target: try target ?? .lxd(try #require(TestLXD.unixSocket)), prefix: Self.unique(prefix), extra: extra)
        do {
            try await batch.submit(count: 5, cluster: cluster)
            try await batch.waitUntilAny(reached: .inProgress)
            let faultAt = ContinuousClock.now - batch.started
            try await inject()
            let duringFault = try await batch.submit(count: 5, cluster: cluster, retryingFor: .zero)
            try await recover()
            if !duringFault { try await batch.submit(count: 5, cluster: cluster) }
            try #require(batch.ids.count == 10)
            let statuses = try await batch.waitUntilTerminal(within: .seconds(Self.deploymentTimeout))
            let endedAt = ContinuousClock.now - batch.started
            try await batch.verify(statuses: statuses, expectCompleted: expectCompleted)
            print(
                "[faults] \(prefix): fault after \(faultAt), second half taken \(duringFault ? "during" : "after") it, "
                    + "all 10 ended after \(endedAt), checked after \(ContinuousClock.now - batch.started)"
            )
        } catch {
            await batch.removeInstances()
            throw error
        }
        await batch.removeInstances()
    }

    /// The service is killed with SIGKILL while the batch is under way, stays dead for 2 s (5 more
    /// deployments are submitted meanwhile), and starts again with the same flags and data.
    @Test(.serialized, arguments: ["api-gateway", "egg-catalog", "cloud-init-renderer", "lxd-deployer"])
    func aServiceKilledMidBatchLosesAndDuplicatesNothing(_ service: String) async throws {
        try await withPlatform { stack, cluster in
            try await batch(stack, cluster: cluster, prefix: String(service.prefix(3))) {
                try await stack.killProcess(named: service)
            } recover: {
                try await Task.sleep(for: .seconds(2))
                try await stack.relaunch(service)
            }
        }
    }

    /// The broker node restarts (every connection drops) while deployments are in progress.
    @Test func aBrokerRestartMidBatchLosesAndDuplicatesNothing() async throws {
        try #require(FaultEnvironment.restartCommand != nil, "ICESHELVES_TEST_FAULTS_RESTART_CMD is not set")
        try await withPlatform { stack, cluster in
            try await batch(stack, cluster: cluster, prefix: "rmq") {
                try await FaultEnvironment.restartBroker()
            }
        }
    }

    /// The agent-broker is killed while an agent works on the batch (agent-poll cluster; the real
    /// `iceshelves-agent` deploys to the main LXD): the agent's reports and polls fail until the
    /// broker is back with the same database, and the leases it handed out carry on.
    @Test func theAgentBrokerKilledMidBatchLosesAndDuplicatesNothing() async throws {
        let socket = try #require(TestLXD.unixSocket).socketPath
        try await withPlatform { stack, _ in
            let agentCluster = try await stack.registerAgentCluster("faults-agent", interval: 2)
            _ = try stack.launch(
                "iceshelves-agent",
                arguments: ["--poll-interval", "2", "--cloud-init-timeout", "180", "--concurrency", "4"],
                environment: [
                    "ICESHELVES_SERVER": stack.agentServer,
                    "ICESHELVES_CLUSTER_ID": String(agentCluster.id),
                    "ICESHELVES_AGENT_KEY": agentCluster.key,
                    "LXD_DIR": (socket as NSString).deletingLastPathComponent,
                ]
            )
            try await batch(stack, cluster: agentCluster.id, prefix: "agb") {
                try await stack.killProcess(named: "agent-broker")
            } recover: {
                try await Task.sleep(for: .seconds(2))
                try await stack.relaunch("agent-broker")
            }
        }
    }

    /// The kvm-deployer is killed with SIGKILL while it boots the first VM of a batch of 10 KVM
    /// deployments (one at a time: `--concurrency 1`; the other nine wait on `deploy.kvm`) and
    /// started again; then the whole batch is cancelled through the API. Ten VMs under TCG would
    /// take about 10 minutes on CI's 2 cores, so the batch is cut short this way: the redelivered
    /// job resumes and is cancelled, the waiting ones are skipped. Each ends, and no domain or
    /// volume is left for one that did not complete.
    @Test(.enabled(if: KVMStack.ready, "run scripts/kvm-env up (scripts/test does)"))
    func theKVMDeployerKilledMidBatchLosesNothingAndACancelLeavesNothing() async throws {
        let settings = KVMDeployTests.settings
        try await withPlatform { stack, _ in
            _ = try stack.launch(
                "kvm-deployer",
                arguments: ["--metrics-port=-1", "--cloud-init-timeout", "800", "--allow-insecure", "1", "--concurrency", "1"]
            )
            let cluster = try await KVMDeployTests.register(base: stack.gatewayBase, key: stack.adminKey, settings, name: "faults-kvm")
            let image = try #require(KVMDeployTests.env["ICESHELVES_TEST_KVM_BASE_VOLUME"])
            var batch = FaultBatch(
                stack,
                target: .libvirt(settings),
                prefix: Self.unique("kvm"),
                extra: #","image":"\#(image)","config_overrides":{"memory_mb":"768"}"#
            )
            do {
                try await batch.submit(count: 10, cluster: cluster)
                try await batch.waitUntilAny(reached: .inProgress)
                try await stack.killProcess(named: "kvm-deployer")
                try await Task.sleep(for: .seconds(2))
                try await stack.relaunch("kvm-deployer")
                // The redelivered job is taken up again before the cancel.
                try await Task.sleep(for: .seconds(5))
                for id in batch.ids {
                    let r = try await HTTP.call("POST", stack.gatewayBase + "/api/deployments/\(id)/cancel", key: stack.adminKey)
                    #expect(r.status == 200 || r.status == 409, "\(id): \(r.status) \(r.json)")
                }
                let statuses = try await batch.waitUntilTerminal(within: .seconds(Self.deploymentTimeout))
                #expect(Set(statuses.values).isSubset(of: ["cancelled", "completed"]), "\(statuses)")
                try await batch.verify(statuses: statuses, expectCompleted: false)
            } catch {
                await batch.removeInstances()
                throw error
            }
            await batch.removeInstances()
        }
    }

    /// An LXD target becomes unreachable during deployments: two deployments go to member node2
    /// of the 2-member cluster (`scripts/lxd-env`, each member its own daemon in its own network
    /// namespace), and once their instances exist, node2's daemon is stopped
    /// (`scripts/lxd-env stop-member node2`, SIGTERM by its recorded PID; the main LXD daemon, which
    /// other suites use, is never touched). node1 then cannot reach node2 and every request for
    /// those instances fails. The deployments must end, and after `scripts/lxd-env up` brought
    /// node2 back, a completed one has its instance and a failed one none (the gateway removes
    /// what the deployer could not).
    @Test func anLXDMemberThatGoesAwayMidDeployLeavesEveryDeploymentEndedAndNothingBehind() async throws {
        let cluster = try #require(TestLXD.cluster)
        try #require(TestLXD.clusterMembers.contains("node2"))
        let certificate = try #require(TestLXD.clusterCertificate)
        let env = ProcessInfo.processInfo.environment
        let cert = try String(contentsOfFile: try #require(env["ICESHELVES_TEST_LXD_CLIENT_CERT"]), encoding: .utf8)
        let key = try String(contentsOfFile: try #require(env["ICESHELVES_TEST_LXD_CLIENT_KEY"]), encoding: .utf8)
        func json(_ s: String) -> String { String(decoding: try! JSONEncoder().encode(s), as: UTF8.self) }
        // Short LXD timeouts: a request to the missing member fails within seconds, and the
        // deployer's budget (and so the gateway's timeout) stays short.
        try await withPlatform(deployerArguments: ["--lxd-timeout", "10", "--operation-timeout", "20", "--cloud-init-timeout", "60"]) {
            stack,
            _ in
            let registered = try await HTTP.call(
                "POST",
                stack.gatewayBase + "/api/clusters",
                key: stack.adminKey,
                body: """
                    {"name":"lxd-cluster","connection_method":"direct-api","endpoint_url":\(json(cluster.endpointURL ?? "")),
                     "client_cert":\(json(cert)),"client_key":\(json(key)),"server_cert":\(json(certificate))}
                    """
            )
            try #require(registered.status == 201, "\(registered.json)")
            let id = try #require(registered.json["cluster_id"] as? Int)
            var batch = FaultBatch(stack, target: .lxd(cluster), prefix: Self.unique("away"), extra: #","target_member":"node2""#)
            var stopped = false
            do {
                try await batch.submit(count: 2, cluster: id)
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline, (try? await batch.instances())?.isEmpty != false {
                    try await Task.sleep(for: .milliseconds(300))
                }
                let stop = try await FaultEnvironment.lxdEnv("stop-member node2", timeout: .seconds(60))
                try #require(stop.status == 0, "\(stop.output)")
                stopped = true
                let stoppedAt = ContinuousClock.now - batch.started
                let statuses = try await batch.waitUntilTerminal(within: .seconds(Self.deploymentTimeout))
                let endedAt = ContinuousClock.now - batch.started
                try await Self.bringBackNode2()
                stopped = false
                print(
                    "[faults] node2 stopped after \(stoppedAt), the deployments ended after \(endedAt) (\(statuses.values.sorted())), node2 back after \(ContinuousClock.now - batch.started)"
                )
                // Found by this test: the deployer's one removal of a failed deployment's instance
                // fails while the member is away; the gateway (LeftoverCleaner) tries again until
                // it succeeds, every minute at the longest.
                try await batch.verify(statuses: statuses, expectCompleted: false, settle: .seconds(150))
                // The gateway records the later removal, and then has nothing pending.
                let settled = ContinuousClock.now + .seconds(60)
                var pending = batch.ids
                while !pending.isEmpty, ContinuousClock.now < settled {
                    var still: [String] = []
                    for id in pending where (try? await stack.deployment(id)["cleanup_retry_at"] as? String) != nil { still.append(id) }
                    pending = still
                    if !pending.isEmpty { try await Task.sleep(for: .seconds(1)) }
                }
                for id in batch.ids {
                    let trail = await batch.log(id)
                    #expect(!pending.contains(id) && trail.contains("more tries: "), "\(id): \(trail)")
                }
            } catch {
                if stopped { try? await Self.bringBackNode2() }
                await batch.removeInstances()
                throw error
            }
            await batch.removeInstances()
        }
    }

    /// `scripts/lxd-env up` starts node2's daemon again (idempotent for the rest). Right after the
    /// start a member may still show offline, which `up` refuses: it is tried three times.
    static func bringBackNode2() async throws {
        var last = ""
        for attempt in 1...3 {
            let up = try await FaultEnvironment.lxdEnv("up", timeout: .seconds(300))
            if up.status == 0 { return }
            last = up.output
            try await Task.sleep(for: .seconds(5 * attempt))
        }
        Issue.record("scripts/lxd-env up did not bring node2 back: \(last.suffix(2000))")
    }
}
