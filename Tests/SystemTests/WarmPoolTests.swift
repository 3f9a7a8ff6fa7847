import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// Warm pools on real LXD: deployments claim pool instances that cloud-init never ran in (each still gets a first
/// boot with its own instance-id and host name), the pool refills, a deployer killed mid-claim
/// leaves exactly one instance, and a moved alias replaces the pool. Every pool here has a
/// marker and name prefix of its own (`tpool-…`), and the test removes what it made.
@Suite(
    "Warm pools (real LXD, RabbitMQ)",
    .serialized,
    .enabled(if: LXDStack.ready && TestLXD.unixSocket != nil, "run scripts/lxd-env up and set ICESHELVES_TEST_LXD_AMQP_URL (scripts/test does)")
)
struct WarmPoolTests {
    let connector = LXDConnector(timeout: .seconds(10), logger: Logger(label: "warm-pool-test"))
    let prefix = "tpool-\(UUID().uuidString.prefix(6).lowercased())"

    static func request(clusterId: String, name: String, image: String? = nil) -> DeploymentRequested {
        DeploymentRequested(
            deploymentId: "dep-\(UUID().uuidString.prefix(12).lowercased())",
            eggName: "debian-hello",
            instanceName: name,
            target: .lxd,
            variables: ["greeting": .string("hello from the pool"), "hostname": .string(name)],
            destination: DeploymentTarget(clusterId: clusterId, image: image)
        )
    }

    /// The deployer arguments that give this test's pools their own prefix and a quick refill.
    var deployerArguments: [String] { ["--warm-pool-prefix", prefix, "--warm-pool-interval", "1", "--concurrency", "4"] }

    /// This test's pool instances (only claimable ones when `ready`: stopped, shifted, marked with their image).
    func poolInstances(_ lxd: LXDClient, ready: Bool = true) async throws -> [LXDInstance] {
        let busy = ready ? try await lxd.busyInstances() : []
        return try await lxd.instances().filter {
            $0.name.hasPrefix(prefix + "-")
                && (!ready || $0.status.lowercased() == "stopped" && !busy.contains($0.name) && $0.config["user.iceshelves.warm-pool-image"] != nil)
        }
    }

    /// Waits until `check` holds on this test's pool instances.
    func waitForPool(_ lxd: LXDClient, _ what: String, timeout: Duration = .seconds(180), _ check: ([LXDInstance]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var last: [LXDInstance] = []
        while ContinuousClock.now < deadline {
            last = try await poolInstances(lxd)
            if check(last) { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record(
            "the pool did not reach: \(what); it has \(last.map { "\($0.name) \($0.config["user.iceshelves.warm-pool-image"]?.prefix(12) ?? "")" })"
        )
    }

    /// Removes this test's pool instances and the named instances.
    func clean(_ lxd: LXDClient, clusterId: String, names: [String]) async {
        ClusterDirectory.shared.setWarmPools(clusterId, [])
        let all = (try? await lxd.instances()) ?? []
        for i in all where i.name.hasPrefix(prefix + "-") || names.contains(i.name) {
            if i.status.lowercased() != "stopped", let op = try? await lxd.changeState(i.name, action: "stop", force: true) {
                _ = try? await lxd.wait(op, timeout: .seconds(60))
            }
            if let op = try? await lxd.deleteInstance(i.name) { _ = try? await lxd.wait(op, timeout: .seconds(60)) }
        }
    }

    /// cloud-init's own view inside the instance: its instance-id, and the host name.
    func firstBoot(_ lxd: LXDClient, _ name: String) async throws -> (instanceId: String, hostname: String) {
        let data = try await lxd.file(name, path: "/run/cloud-init/instance-data.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any])
        let v1 = try #require(json["v1"] as? [String: Any])
        let hostname = try await lxd.exec(name, ["hostname"], timeout: .seconds(30)).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (v1["instance_id"] as? String ?? "", hostname)
    }

    @Test func aPoolOfTwoServesTwoOfThreeDeploymentsAtOnceAndRefills() async throws {
        let c = try #require(TestLXD.unixSocket)
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        let clusterId = ClusterDirectory.shared.register(c)
        let names = (1...3).map { "\(prefix)-dep\($0)" }.map { $0.replacingOccurrences(of: "tpool-", with: "tpdep-") }
        let stack = try await LXDStack()
        do {
            ClusterDirectory.shared.setWarmPools(clusterId, [WarmPoolSpec(image: TestLXD.image, size: 2)])
            try await stack.startDeployer(deployerArguments)
            try await waitForPool(lxd, "2 ready instances") { $0.count == 2 }

            let requests = names.map { Self.request(clusterId: clusterId, name: $0) }
            let results = try await withThrowingTaskGroup(of: (DeploymentRequested, [DeploymentEvent]).self) { group in
                for r in requests { group.addTask { (r, try await stack.deploy(r)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var paths: [String] = []
            for (request, events) in results {
                #expect(events.last?.status == .completed, "\(events.map { "\($0.status)/\($0.step): \($0.message)" })")
                paths += events.compactMap { $0.details["warm_pool"] }
                let boot = try await firstBoot(lxd, request.instanceName)
                #expect(boot.instanceId == "iid-\(request.deploymentId)", "cloud-init's instance-id in \(request.instanceName)")
                #expect(boot.hostname == request.instanceName)
                // cloud-init ran once, for this deployment, in the never-started pool instance.
                let runs = try await lxd.exec(request.instanceName, ["ls", "/var/lib/cloud/instances"], timeout: .seconds(30)).stdout
                #expect(runs.split(separator: "\n") == ["iid-\(request.deploymentId)"])
                #expect(try await lxd.fileExists(request.instanceName, path: "/etc/cloud/cloud-init.disabled") == false)
                let greeting = String(decoding: try await lxd.file(request.instanceName, path: "/etc/iceshelves/hello.txt"), as: UTF8.self)
                #expect(greeting == "hello from the pool")
                let instance = try #require(try await lxd.instance(request.instanceName))
                #expect(instance.config["user.iceshelves.deployment-id"] == request.deploymentId)
                #expect(instance.config["user.iceshelves.warm-pool"] == nil)
            }
            #expect(paths.sorted() == ["hit", "hit", "miss"], "the event log says which path each took")
            try await waitForPool(lxd, "refilled to 2") { $0.count == 2 }
        } catch {
            await stack.stop()
            await clean(lxd, clusterId: clusterId, names: names)
            throw error
        }
        await stack.stop()
        await clean(lxd, clusterId: clusterId, names: names)
    }

    @Test func aDeployerKilledMidClaimLeavesOneInstanceAndThePoolRecovers() async throws {
        let c = try #require(TestLXD.unixSocket)
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        let clusterId = ClusterDirectory.shared.register(c)
        let killed = prefix.replacingOccurrences(of: "tpool-", with: "tpdep-") + "-kill9"
        let adopted = prefix.replacingOccurrences(of: "tpool-", with: "tpdep-") + "-adopt"
        let stack = try await LXDStack()
        do {
            ClusterDirectory.shared.setWarmPools(clusterId, [WarmPoolSpec(image: TestLXD.image, size: 1)])
            let first = try await stack.startDeployer(deployerArguments)
            try await waitForPool(lxd, "1 ready instance") { $0.count == 1 }

            // kill -9 as soon as the claim is reported, then a new deployer takes the job again.
            let request = Self.request(clusterId: clusterId, name: killed)
            nonisolated(unsafe) var wasKilled = false
            let events = try await stack.deploy(request) { event in
                if event.details["warm_pool"] == "hit" && !wasKilled {
                    kill(first.processIdentifier, SIGKILL)
                    wasKilled = true
                    try await stack.startDeployer(deployerArguments)
                }
            }
            #expect(wasKilled)
            #expect(events.last?.status == .completed, "\(events.map { "\($0.status)/\($0.step): \($0.message)" })")
            let ours = try await lxd.instances().filter { $0.config["user.iceshelves.deployment-id"] == request.deploymentId }
            #expect(ours.map(\.name) == [killed], "exactly one instance for the deployment")
            #expect(try await firstBoot(lxd, killed).instanceId == "iid-\(request.deploymentId)")
            try await waitForPool(lxd, "recovered to 1") { $0.count == 1 }

            // The narrowest window: killed right after the rename, before the instance was
            // prepared. Made by hand: the pool instance renamed to the deployment's name.
            let free = try #require(try await poolInstances(lxd).first)
            let op = try await lxd.renameInstance(free.name, to: adopted)
            #expect(try await lxd.wait(op, timeout: .seconds(60)).succeeded)
            let second = Self.request(clusterId: clusterId, name: adopted)
            let resumed = try await stack.deploy(second)
            #expect(resumed.last?.status == .completed, "\(resumed.map { "\($0.status)/\($0.step): \($0.message)" })")
            #expect(resumed.contains { $0.step == .resume && $0.message.contains("finishing the claim") })
            #expect(try await firstBoot(lxd, adopted).instanceId == "iid-\(second.deploymentId)")
            #expect(try await lxd.instances().filter { $0.config["user.iceshelves.deployment-id"] == second.deploymentId }.count == 1)
            try await waitForPool(lxd, "recovered to 1 again") { $0.count == 1 }
        } catch {
            await stack.stop()
            await clean(lxd, clusterId: clusterId, names: [killed, adopted])
            throw error
        }
        await stack.stop()
        await clean(lxd, clusterId: clusterId, names: [killed, adopted])
    }

    @Test func aMovedAliasReplacesThePoolAndRemovingThePoolRemovesItsInstances() async throws {
        let c = try #require(TestLXD.unixSocket)
        let busybox = try #require(ProcessInfo.processInfo.environment["ICESHELVES_TEST_LXD_BUSYBOX_IMAGE"])
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        let clusterId = ClusterDirectory.shared.register(c)
        let alias = "\(prefix)/image"
        let small = try #require(try await lxd.imageAlias(busybox))
        let large = try #require(try await lxd.imageAlias(TestLXD.image))
        func aliasRequest(_ method: String, _ path: String, _ body: [String: String]?) async throws {
            let data = try body.map { Array(try JSONEncoder().encode($0)) }
            let r = try await lxd.transport.send(LXDHTTPRequest(method: method, path: path, body: data, timeout: .seconds(10)))
            #expect(r.status < 400, "\(method) \(path): \(String(decoding: r.body, as: UTF8.self))")
        }
        let escaped = alias.replacingOccurrences(of: "/", with: "%2F")
        try await aliasRequest("POST", "/1.0/images/aliases", ["name": alias, "target": small])
        let stack = try await LXDStack()
        do {
            ClusterDirectory.shared.setWarmPools(clusterId, [WarmPoolSpec(image: alias, size: 1)])
            try await stack.startDeployer(deployerArguments)
            try await waitForPool(lxd, "1 instance of the first image", timeout: .seconds(60)) {
                $0.count == 1 && $0[0].config["user.iceshelves.warm-pool-image"] == small
            }
            try await aliasRequest("PUT", "/1.0/images/aliases/\(escaped)", ["target": large, "description": ""])
            try await waitForPool(lxd, "1 instance of the moved alias' image") {
                $0.count == 1 && $0[0].config["user.iceshelves.warm-pool-image"] == large
            }
            ClusterDirectory.shared.setWarmPools(clusterId, [])
            let deadline = ContinuousClock.now + .seconds(60)
            while try await !poolInstances(lxd, ready: false).isEmpty && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(try await poolInstances(lxd, ready: false).isEmpty, "removing the pool removes its instances")
        } catch {
            await stack.stop()
            await clean(lxd, clusterId: clusterId, names: [])
            try? await aliasRequest("DELETE", "/1.0/images/aliases/\(escaped)", nil)
            throw error
        }
        await stack.stop()
        await clean(lxd, clusterId: clusterId, names: [])
        try await aliasRequest("DELETE", "/1.0/images/aliases/\(escaped)", nil)
    }

    /// Through the real gateway: an admin sets the pool over REST, the deployer learns it with
    /// `cluster.warm_pools` (and fetches the connection with purpose `warm-pool`), the cluster's
    /// detail and the deployer's /metrics show it, and an empty list removes the instance.
    @Test func poolsSetThroughTheGatewayAreFilledShownAndRemoved() async throws {
        let c = try #require(TestLXD.unixSocket)
        let busybox = try #require(ProcessInfo.processInfo.environment["ICESHELVES_TEST_LXD_BUSYBOX_IMAGE"])
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        let stack = try await LXDStack(gatewayStandIn: false)
        let gateway = try await GatewayProcess(amqpURL: LXDStack.url!)
        do {
            let metricsPort = Int.random(in: 50000...54999)
            try await stack.startDeployer(deployerArguments + ["--metrics-port", "\(metricsPort)"])
            let registered = try await HTTP.call(
                "POST",
                gateway.base + "/api/clusters",
                key: gateway.key,
                body: #"{"name":"pool","connection_method":"unix-socket","socket_path":"\#(c.socketPath)"}"#
            )
            let id = try #require(registered.json["cluster_id"] as? Int, "\(registered.json)")
            let set = try await HTTP.call(
                "PUT",
                gateway.base + "/api/clusters/\(id)/warm-pools",
                key: gateway.key,
                body: #"{"warm_pools":[{"image":"\#(busybox)","size":1}]}"#
            )
            #expect(set.status == 200, "\(set.json)")
            try await waitForPool(lxd, "1 instance set through REST") { $0.count == 1 }
            var status: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let detail = try await HTTP.call("GET", gateway.base + "/api/clusters/\(id)", key: gateway.key)
                status = (detail.json["data"] as? [String: Any])?["warm_pool_status"] as? [[String: Any]] ?? []
                if status.first?["ready"] as? Int == 1 { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(status.first?["ready"] as? Int == 1 && status.first?["size"] as? Int == 1, "\(status)")
            #expect(status.first?["image"] as? String == busybox)
            let metrics = try await Self.text("http://127.0.0.1:\(metricsPort)/metrics")
            #expect(metrics.contains("iceshelves_lxd_warm_pool_ready"), "\(metrics.prefix(2000))")
            #expect(metrics.contains("iceshelves_lxd_warm_pool_size"))

            let cleared = try await HTTP.call("PUT", gateway.base + "/api/clusters/\(id)/warm-pools", key: gateway.key, body: #"{"warm_pools":[]}"#)
            #expect(cleared.status == 200)
            let gone = ContinuousClock.now + .seconds(30)
            while try await !poolInstances(lxd, ready: false).isEmpty && ContinuousClock.now < gone {
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(try await poolInstances(lxd, ready: false).isEmpty, "removing the pool over REST removes its instance")
        } catch {
            gateway.stop()
            await stack.stop()
            await clean(lxd, clusterId: "", names: [])
            throw error
        }
        gateway.stop()
        await stack.stop()
        await clean(lxd, clusterId: "", names: [])
    }

    static func text(_ url: String) async throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "--max-time", "10", url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        return String(decoding: data, as: UTF8.self)
    }
}
