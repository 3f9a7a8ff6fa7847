import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// The offline egg deployed through the whole pipeline (catalog, renderer, deployer) to real
/// LXD, over each transport and onto the 2-member cluster; failures, and a deployer killed mid-deploy.
@Suite(
    "LXD deployments (real LXD, RabbitMQ, sshd)",
    .serialized,
    .enabled(if: LXDStack.ready && TestLXD.unixSocket != nil, "run scripts/lxd-env up and set ICESHELVES_TEST_LXD_AMQP_URL (scripts/test does)")
)
struct LXDDeployTests {
    let connector = LXDConnector(timeout: .seconds(10), logger: Logger(label: "lxd-deploy-test"))

    static func request(
        _ connection: ClusterConnection,
        name: String,
        member: String? = nil,
        image: String? = nil,
        greeting: String = "hello from the test",
        cloudConfig: String? = nil
    ) -> DeploymentRequested {
        let id = "dep-\(UUID().uuidString.prefix(12).lowercased())"
        return DeploymentRequested(
            deploymentId: id,
            eggName: "debian-hello",
            instanceName: name,
            target: .lxd,
            variables: ["greeting": .string(greeting)],
            overrides: .init(cloudConfig: cloudConfig),
            destination: DeploymentTarget(clusterId: ClusterDirectory.shared.register(connection), targetMember: member, image: image)
        )
    }

    /// Checks inside the instance that cloud-init finished and the egg took effect, then removes it by RPC.
    func verifyAndClean(_ stack: LXDStack, _ request: DeploymentRequested, _ events: [DeploymentEvent], check: ClusterConnection) async throws {
        let last = try #require(events.last)
        #expect(last.status == .completed, "\(events.map { "\($0.status)/\($0.step): \($0.message)" })")
        #expect(last.details["name"] == request.instanceName)
        #expect(last.details["status"] == "Running")
        #expect(last.details["architecture"]?.isEmpty == false)
        let steps = events.map(\.step)
        for step: EventStep in [.render, .connect, .create, .start, .cloudInit, .done] { #expect(steps.contains(step), "no \(step) event") }

        let lxd = try await connector.connect(check)
        defer { lxd.close() }
        try await InsideChecks.lxd(lxd, request.instanceName, greeting: "hello from the test", deploymentId: request.deploymentId)

        let cleanup = try await stack.client.call(
            Envelope(
                LXDCleanupRequest(
                    clusterId: request.destination!.clusterId,
                    instanceName: request.instanceName,
                    deploymentId: request.deploymentId
                )
            ),
            service: .lxdDeployer,
            expecting: LXDCleanupResult.self,
            timeout: .seconds(60)
        )
        #expect(cleanup.payload.removed)
        #expect(try await lxd.instance(request.instanceName) == nil)
    }

    /// A fresh name per run, so a run that was interrupted leaves nothing in the next one's way.
    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())" }
    let badImageName = unique("hello-badimage")
    let ciErrorName = unique("hello-ci-error")
    let takenName = unique("hello-taken")
    let kill9Name = unique("hello-kill9")
    let cancelName = unique("hello-cancel")
    let keptName = unique("hello-kept")

    func withStack(deployer: Bool = true, gatewayStandIn: Bool = true, _ body: (LXDStack) async throws -> Void) async throws {
        let stack = try await LXDStack(gatewayStandIn: gatewayStandIn)
        do {
            if deployer { try await stack.startDeployer() }
            try await body(stack)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    @Test func deploysOverTheUnixSocketHTTPSAndTheSSHTunnel() async throws {
        try await withStack { stack in
            for (label, connection) in [("unix", TestLXD.unixSocket), ("https", TestLXD.https), ("ssh", TestLXD.ssh)] {
                let c = try #require(connection, "\(label) is not configured")
                let request = Self.request(c, name: "hello-\(label)-\(UUID().uuidString.prefix(4).lowercased())")
                let events = try await stack.deploy(request)
                try await verifyAndClean(stack, request, events, check: try #require(TestLXD.unixSocket))
            }
        }
    }

    /// Seen by a user: the SSE stream of one deploy went `rendering`, `in_progress`, `queued`,
    /// `in_progress`. Through REST and the real gateway, the stream's events, ordered by `seq`,
    /// must be numbered 1, 2, 3, … and their statuses must never move backwards.
    @Test func aDeploymentThroughRESTStreamsItsProgressInOrder() async throws {
        let socket = try #require(TestLXD.unixSocket).socketPath
        try await withStack(gatewayStandIn: false) { _ in
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("rest-\(UUID().uuidString.prefix(8))").path
            let port = Int.random(in: 40000...44999)
            let gateway = try SystemEnvironment.launch(
                "api-gateway",
                arguments: ["--metrics-port=-1", "--http-port", "\(port)", "--data-dir", data],
                url: LXDStack.url
            )
            let stream = Process()
            defer {
                if stream.isRunning { stream.terminate() }
                if gateway.isRunning { kill(gateway.processIdentifier, SIGTERM) }
                try? FileManager.default.removeItem(atPath: data)
            }
            let base = "http://127.0.0.1:\(port)/iceshelves"
            var key = ""
            let up = ContinuousClock.now + .seconds(30)
            while key.isEmpty && ContinuousClock.now < up {
                if let k = try? String(contentsOfFile: data + "/admin.key", encoding: .utf8),
                    (try? await HTTP.call("GET", base + "/healthz"))?.status == 200
                {
                    key = k.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            try #require(!key.isEmpty, "the gateway did not come up")
            let cluster = try await HTTP.call(
                "POST",
                base + "/api/clusters",
                key: key,
                body: #"{"name":"local","connection_method":"unix-socket","socket_path":"\#(socket)"}"#
            )
            try #require(cluster.status == 201, "\(cluster.json)")

            // Listen to every event before deploying, so that none is missed.
            let file = data + "/events.sse"
            FileManager.default.createFile(atPath: file, contents: nil)
            stream.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            stream.arguments = ["-s", "-N", "--max-time", "300", "-H", "Authorization: Bearer \(key)", "-o", file, base + "/api/events"]
            stream.standardError = FileHandle.nullDevice
            try stream.run()
            while (try? String(contentsOfFile: file, encoding: .utf8))?.contains(": connected") != true {
                try await Task.sleep(for: .milliseconds(50))
            }

            let name = Self.unique("hello-rest")
            let accepted = try await HTTP.call(
                "POST",
                base + "/api/deploy",
                key: key,
                body: #"{"egg_id":"debian-hello","cluster_id":1,"instance_name":"\#(name)","variables":{"greeting":"hi"}}"#
            )
            let id = try #require(accepted.json["deployment_id"] as? String, "\(accepted.json)")
            var progress: [DeploymentProgress] = []
            let deadline = ContinuousClock.now + .seconds(240)
            while ContinuousClock.now < deadline {
                let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                progress = text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }
                    .compactMap { try? JSONDecoder().decode(DeploymentProgress.self, from: Data($0.dropFirst(6).utf8)) }
                    .filter { $0.deploymentId == id }
                if progress.contains(where: { $0.status.isTerminal }) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let ordered = progress.sorted { $0.seq < $1.seq }
            let trail = ordered.map { "\($0.seq) \($0.status.rawValue)/\($0.step.rawValue)" }
            #expect(ordered.last?.status == .completed, "\(trail)")
            #expect(ordered.map(\.seq) == Array(1...Int64(ordered.count)), "every event is numbered once, without gaps: \(trail)")
            for (before, after) in zip(ordered, ordered.dropFirst()) {
                #expect(
                    before.status.rank <= after.status.rank,
                    "the status went back from \(before.status.rawValue) to \(after.status.rawValue): \(trail)"
                )
            }
            let seen = Set(ordered.map(\.status))
            for status: DeploymentStatus in [.pending, .rendering, .queued, .inProgress, .completed] {
                #expect(seen.contains(status), "no \(status.rawValue): \(trail)")
            }
            let detail = try await HTTP.call("GET", base + "/api/deployments/\(id)", key: key)
            #expect(detail.json["last_seq"] as? Int == ordered.count)
            // A stream opened later replays what the ledger recorded, from Last-Event-ID on.
            func replay(_ headers: [String]) throws -> [Int64] {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                p.arguments =
                    ["-s", "-N", "--max-time", "2", "-H", "Authorization: Bearer \(key)"] + headers.flatMap { ["-H", $0] } + [
                        base + "/api/deployments/\(id)/events"
                    ]
                let out = Pipe()
                p.standardOutput = out
                p.standardError = FileHandle.nullDevice
                try p.run()
                let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                return text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }
                    .compactMap { try? JSONDecoder().decode(DeploymentProgress.self, from: Data($0.dropFirst(6).utf8)).seq }
            }
            #expect(try replay([]) == ordered.map(\.seq), "the whole history")
            let n = Int64(ordered.count)
            #expect(try replay(["Last-Event-ID: \(n - 2)"]) == [n - 1, n], "only what came after the last event seen")
            #expect(try await HTTP.call("DELETE", base + "/api/deployments/\(id)/cleanup", key: key).json["removed"] as? Bool == true)
            // The next test answers rpc.api-gateway itself: this gateway must be gone first.
            kill(gateway.processIdentifier, SIGTERM)
            _ = try? await SystemEnvironment.waitForExit(gateway, timeout: .seconds(30))
        }
    }

    /// The gateway is killed during a deployment and comes back after the deployment finished:
    /// it reads the events that waited for it before it looks for timeouts, so the deployment
    /// ends `completed`, and the webhook (written with the state change) arrives exactly once.
    @Test func aGatewayKilledMidDeployComesBackToACompletedDeploymentAndOneWebhook() async throws {
        let socket = try #require(TestLXD.unixSocket).socketPath
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        try await withStack(gatewayStandIn: false) { stack in
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("restart-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: data) }
            let port = Int.random(in: 45000...47999)
            let arguments = [
                "--metrics-port=-1", "--http-port", "\(port)", "--data-dir", data, "--allowed-hosts", "loopback", "--deployment-timeout", "1",
            ]
            var gateway = try SystemEnvironment.launch("api-gateway", arguments: arguments, url: LXDStack.url)
            let base = "http://127.0.0.1:\(port)/iceshelves"
            func up() async throws -> String {
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    if let k = try? String(contentsOfFile: data + "/admin.key", encoding: .utf8),
                        (try? await HTTP.call("GET", base + "/healthz"))?.status == 200
                    {
                        return k.trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw CancellationError()
            }
            let key = try await up()
            _ = try await HTTP.call(
                "POST",
                base + "/api/clusters",
                key: key,
                body: #"{"name":"local","connection_method":"unix-socket","socket_path":"\#(socket)"}"#
            )
            let hook = try await HTTP.call(
                "POST",
                base + "/api/webhooks",
                key: key,
                body: #"{"url":"\#(receiver.url)","events":["deployment.completed"]}"#
            )
            try #require(hook.status == 201, "\(hook.json)")
            let name = Self.unique("hello-gwkill")
            let accepted = try await HTTP.call(
                "POST",
                base + "/api/deploy",
                key: key,
                body: #"{"egg_id":"debian-hello","cluster_id":1,"instance_name":"\#(name)","variables":{"greeting":"hi"}}"#
            )
            let id = try #require(accepted.json["deployment_id"] as? String, "\(accepted.json)")
            // Listen on the bus for the end, while the gateway is away.
            let queue = "test.restart.\(id)"
            try await stack.client.declare(.eventListener(queue, binding: BusNames.progressBinding(deploymentId: id)))
            let consumer = try await stack.client.consume(queue: queue, prefetch: 50)
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline,
                (try await HTTP.call("GET", base + "/api/deployments/\(id)", key: key).json["status"] as? String) != "in_progress"
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            kill(gateway.processIdentifier, SIGKILL)
            _ = try? await SystemEnvironment.waitForExit(gateway, timeout: .seconds(10))
            var ended: DeploymentStatus?
            let watchdog = Task { [client = stack.client] in
                try await Task.sleep(for: .seconds(180))
                client.cancel(consumer)
            }
            for await delivery in consumer.deliveries {
                stack.client.ack(delivery)
                if let e = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body).payload, e.status.isTerminal {
                    ended = e.status
                    break
                }
            }
            watchdog.cancel()
            stack.client.cancel(consumer)
            #expect(ended == .completed, "the deployment ended while the gateway was down")
            // Its deployment timeout of 1 s is long past; the deployer's budget is not.
            gateway = try SystemEnvironment.launch("api-gateway", arguments: arguments, url: LXDStack.url)
            defer {
                if gateway.isRunning { kill(gateway.processIdentifier, SIGTERM) }
            }
            _ = try await up()
            var status: String?
            let settle = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < settle {
                status = try await HTTP.call("GET", base + "/api/deployments/\(id)", key: key).json["status"] as? String
                if status == "completed" || status == "timeout" { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(status == "completed")
            let first = try await receiver.waitForRequest(within: .seconds(20))
            #expect(first.body.contains(id))
            try await Task.sleep(for: .seconds(3))
            #expect(receiver.all().filter { $0.body.contains(id) }.count == 1, "the webhook arrives exactly once")
            #expect(try await HTTP.call("DELETE", base + "/api/deployments/\(id)/cleanup", key: key).json["removed"] as? Bool == true)
            kill(gateway.processIdentifier, SIGTERM)
            _ = try? await SystemEnvironment.waitForExit(gateway, timeout: .seconds(30))
        }
    }

    @Test func placesOnANamedMemberAndByTheRuleOnTheCluster() async throws {
        let cluster = try #require(TestLXD.cluster)
        let members = TestLXD.clusterMembers
        try #require(members.count == 2)
        try await withStack { stack in
            let named = Self.request(cluster, name: "hello-named-\(UUID().uuidString.prefix(4).lowercased())", member: members[1])
            let namedEvents = try await stack.deploy(named)
            #expect(namedEvents.last?.details["member"] == members[1])
            try await verifyAndClean(stack, named, namedEvents, check: cluster)

            let auto = Self.request(cluster, name: "hello-auto-\(UUID().uuidString.prefix(4).lowercased())")
            let autoEvents = try await stack.deploy(auto)
            let landed = try #require(autoEvents.last?.details["member"])
            #expect(members.contains(landed))
            #expect(autoEvents.first { $0.step == .create }?.details["member"] == landed, "the create event names the chosen member")
            try await verifyAndClean(stack, auto, autoEvents, check: cluster)
        }
    }

    @Test func aBadImageAliasFailsAndLeavesNothing() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let request = Self.request(c, name: badImageName, image: "iceshelves/no-such-image")
            let events = try await stack.deploy(request)
            let last = try #require(events.last)
            #expect(last.status == .failed)
            #expect(last.step == .image)
            #expect(last.message.contains("iceshelves/no-such-image"))
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(badImageName) == nil)
        }
    }

    @Test func aCloudInitErrorFailsWithItsErrorsAndLeavesNothing() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let request = Self.request(c, name: ciErrorName, cloudConfig: "runcmd:\n  - [sh, -c, \"exit 3\"]\n")
            let events = try await stack.deploy(request)
            let last = try #require(events.last)
            #expect(last.status == .failed, "\(events.map(\.message))")
            #expect(last.step == .cloudInit)
            #expect(last.message.contains("runcmd") || last.message.contains("scripts-user"), "\(last.message)")
            #expect(events.contains { $0.step == .cleanup })
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(ciErrorName) == nil)
        }
    }

    @Test func aNameThatBelongsToSomethingElseIsAClearFailureAndIsLeftAlone() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let first = Self.request(c, name: takenName)
            let events = try await stack.deploy(first)
            #expect(events.last?.status == .completed)
            let second = Self.request(c, name: takenName)
            let again = try await stack.deploy(second)
            #expect(again.last?.status == .failed)
            #expect(again.last?.message.contains("already exists") == true)
            try await verifyAndClean(stack, first, events, check: c)
        }
    }

    @Test func aDeployerKilledMidDeployLosesNothingAndCreatesOneInstance() async throws {
        try await withStack(deployer: false) { stack in
            let c = try #require(TestLXD.unixSocket)
            let first = try await stack.startDeployer()
            let request = Self.request(c, name: kill9Name)
            nonisolated(unsafe) var killed = false
            let events = try await stack.deploy(request) { event in
                if event.step == .create && !killed {
                    kill(first.processIdentifier, SIGKILL)
                    killed = true
                    try await stack.startDeployer()
                }
            }
            #expect(killed)
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            let ours = try await lxd.instances().filter { $0.config["user.iceshelves.deployment-id"] == request.deploymentId }
            #expect(ours.count == 1, "exactly one instance for the deployment, found \(ours.map(\.name))")
            try await verifyAndClean(stack, request, events, check: c)
            #expect(try await lxd.instance(kill9Name) == nil)
        }
    }

    @Test func aCancelStopsTheWorkAndCleansUp() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            // cloud-init sleeps, so the deployment is still waiting for it when the cancel lands
            // (the plain test egg's cloud-init can finish before the cancel is handled).
            let request = Self.request(c, name: cancelName, cloudConfig: "runcmd:\n  - [sh, -c, \"sleep 120\"]\n")
            nonisolated(unsafe) var cancelledAt: ContinuousClock.Instant?
            let events = try await stack.deploy(request) { event in
                if event.step == .cloudInit && event.status == .inProgress {
                    cancelledAt = .now
                    let cancel = DeploymentCancel(deploymentId: request.deploymentId, reason: "test")
                    try await stack.client.publish(
                        Envelope(cancel, deploymentId: request.deploymentId),
                        exchange: BusNames.eventsExchange,
                        routingKey: cancel.routingKey,
                        mandatory: false
                    )
                }
            }
            #expect(events.last?.status == .cancelled, "\(events.map { "\($0.status)/\($0.step)" })")
            #expect(events.contains { $0.step == .cleanup })
            // Not after cloud-init's 120 s: the cleanup must not wait for the deployer's own
            // `cloud-init status --wait` inside the instance (it did, once).
            let took = ContinuousClock.now - (cancelledAt ?? .now)
            #expect(took < .seconds(90), "the cancel took \(took)")
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(cancelName) == nil)
        }
    }

    @Test func aFailedDeploymentThatAskedToKeepItsInstanceKeepsIt() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            var request = Self.request(c, name: keptName, cloudConfig: "runcmd:\n  - [sh, -c, \"exit 4\"]\n")
            request.destination?.keepOnFailure = true
            let events = try await stack.deploy(request)
            #expect(events.last?.status == .failed)
            #expect(!events.contains { $0.step == .cleanup })
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(keptName) != nil)
            await #expect(throws: RPCError.self, "cleanup for another deployment must be refused") {
                _ = try await stack.client.call(
                    Envelope(LXDCleanupRequest(clusterId: request.destination!.clusterId, instanceName: keptName, deploymentId: "someone-else")),
                    service: .lxdDeployer,
                    expecting: LXDCleanupResult.self,
                    timeout: .seconds(60)
                )
            }
            let removed = try await stack.client.call(
                Envelope(LXDCleanupRequest(clusterId: request.destination!.clusterId, instanceName: keptName, deploymentId: request.deploymentId)),
                service: .lxdDeployer,
                expecting: LXDCleanupResult.self,
                timeout: .seconds(60)
            ).payload
            #expect(removed.removed)
        }
    }

    @Test func theConnectionTestReportsVersionMembersAndResources() async throws {
        try await withStack { stack in
            let result = try await stack.client.call(
                Envelope(LXDTestRequest(clusterId: ClusterDirectory.shared.register(try #require(TestLXD.cluster)))),
                service: .lxdDeployer,
                expecting: LXDTestResult.self,
                timeout: .seconds(30)
            ).payload
            #expect(result.clustered)
            #expect(Set(result.members.map(\.name)) == Set(TestLXD.clusterMembers))
            #expect(result.members.allSatisfy { $0.status == "Online" })
            #expect(result.cpuCores > 0 && result.memoryBytes > 0)
            #expect(result.auth == "trusted")
            #expect(!result.serverVersion.isEmpty)

            var wrong = try #require(TestLXD.https)
            wrong.serverCert = TestLXD.clusterCertificate
            await #expect {
                _ = try await stack.client.call(
                    Envelope(LXDTestRequest(clusterId: ClusterDirectory.shared.register(wrong))),
                    service: .lxdDeployer,
                    expecting: LXDTestResult.self,
                    timeout: .seconds(30)
                )
            } throws: { error in
                "\(error)".contains("pinned certificate")
            }
        }
    }
}
