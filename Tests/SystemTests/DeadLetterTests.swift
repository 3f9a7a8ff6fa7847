import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// A poison job: every lxd-deployer that takes it dies (the test kills it with SIGKILL as soon as
/// it reports `accept`). The quorum job queue dead-letters it after its delivery limit, and the
/// gateway marks the deployment failed, once, and lists the job for admins to requeue or drop.
/// The suite's vhost must start without dead letters (scripts/test starts a fresh broker).
@Suite(
    "Poison jobs and dead letters (real RabbitMQ, gateway, lxd-deployer, LXD)",
    .serialized,
    .enabled(
        if: SystemEnvironment.deadLetterURL != nil && SystemEnvironment.binDir != nil && TestLXD.unixSocket != nil,
        "set ICESHELVES_TEST_DLQ_AMQP_URL and run scripts/lxd-env up (scripts/test does)"
    )
)
struct DeadLetterTests {
    static let url = SystemEnvironment.deadLetterURL
    static let limit = 2

    @Test func aJobThatCrashesItsDeployerFailsItsDeploymentAndCanBeRequeuedOrDropped() async throws {
        let socket = try #require(TestLXD.unixSocket).socketPath
        // The services' own job publishers, not the test harness (`guest`): a forged job is refused below.
        let environment = ["ICESHELVES_DELIVERY_LIMIT": "\(Self.limit)", "ICESHELVES_JOB_PUBLISHERS": "api-gateway,cloud-init-renderer"]
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let stack = try await LXDStack(gatewayStandIn: false, url: Self.url, environment: environment)
        let gateway = try await GatewayProcess(amqpURL: Self.url!, arguments: ["--allowed-hosts", "loopback"], environment: environment)
        var started: String?
        do {
            let (base, key) = (gateway.base, gateway.key)
            let cluster = try await HTTP.call(
                "POST",
                base + "/api/clusters",
                key: key,
                body: #"{"name":"local","connection_method":"unix-socket","socket_path":"\#(socket)"}"#
            )
            try #require(cluster.status == 201, "\(cluster.json)")
            let clusterId = try #require(cluster.json["cluster_id"] as? Int)
            let hook = try await HTTP.call(
                "POST",
                base + "/api/webhooks",
                key: key,
                body: #"{"url":"\#(receiver.url)","events":["deployment.failed"]}"#
            )
            try #require(hook.status == 201, "\(hook.json)")
            let name = "dlq-\(UUID().uuidString.prefix(6).lowercased())"
            let accepted = try await HTTP.call(
                "POST",
                base + "/api/deploy",
                key: key,
                body: #"{"egg_id":"debian-hello","cluster_id":\#(clusterId),"instance_name":"\#(name)","variables":{"greeting":"hi"}}"#
            )
            let id = try #require(accepted.json["deployment_id"] as? String, "\(accepted.json)")
            let events = "test.dlq.\(id)"
            try await stack.client.declare(.eventListener(events, binding: BusNames.progressBinding(deploymentId: id)))
            let consumer = try await stack.client.consume(queue: events, prefetch: 50)
            defer { stack.client.cancel(consumer) }
            started = id
            // The deployer starts once the test listens: it cannot take the job unseen.
            var deployer = try await stack.startDeployer()
            var progress = consumer.deliveries.compactMap { d -> DeploymentEvent? in
                stack.client.ack(d)
                return try? MessageCodec.decode(DeploymentEvent.self, from: d.body).payload
            }.makeAsyncIterator()
            /// The next event of the deployment that `matches`, or `nil` after a minute.
            func next(_ matches: (DeploymentEvent) -> Bool) async -> DeploymentEvent? {
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(60))
                    stack.client.cancel(consumer)  // ends the stream
                }
                defer { watchdog.cancel() }
                while let e = await progress.next() { if matches(e) { return e } }
                return nil
            }

            /// Kills the deployer each time it takes the job, until the broker gives the job up;
            /// no deployer runs afterwards.
            func crashUntilDeadLettered() async throws -> Int {
                var kills = 0
                while kills < Self.limit + 1, await next({ $0.step == .accept }) != nil {
                    kill(deployer.processIdentifier, SIGKILL)
                    _ = try await SystemEnvironment.waitForExit(deployer, timeout: .seconds(10))
                    kills += 1
                    if kills < Self.limit + 1 { deployer = try await stack.startDeployer() }
                }
                return kills
            }

            #expect(try await crashUntilDeadLettered() == Self.limit + 1, "the broker hands the job out limit + 1 times")
            func deployment() async throws -> [String: Any] { try await HTTP.call("GET", base + "/api/deployments/\(id)", key: key).json }
            func letters(_ k: String = key) async throws -> HTTP.Reply { try await HTTP.call("GET", base + "/api/admin/dead-letters", key: k) }
            func ours() async throws -> [[String: Any]] {
                (try await letters().json["dead_letters"] as? [[String: Any]] ?? []).filter { $0["deployment_id"] as? String == id }
            }
            var listed: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                listed = try await ours()
                if !listed.isEmpty, try await deployment()["status"] as? String == "failed" { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let failed = try await deployment()
            #expect(failed["status"] as? String == "failed", "\(failed)")
            #expect((failed["error"] as? String)?.contains("delivery_limit") == true, "\(failed["error"] ?? "no error")")
            let letter = try #require(listed.first, "the dead letter is listed")
            #expect(listed.count == 1)
            #expect(letter["queue"] as? String == TargetType.lxd.deployQueue)
            #expect(letter["reason"] as? String == "delivery_limit")
            #expect(letter["count"] as? Int == Self.limit + 1)
            #expect(letter["deployment_status"] as? String == "failed")
            let letterId = try #require(letter["id"] as? String)
            // The CLI lists it too.
            let cli = Process()
            cli.executableURL = URL(fileURLWithPath: SystemEnvironment.binDir! + "/iceshelves")
            cli.arguments = ["dead-letter", "list", "--format", "csv", "-c", "id,reason"]
            cli.environment = ["ICESHELVES_URL": base, "ICESHELVES_API_KEY": key]
            let out = Pipe()
            cli.standardOutput = out
            cli.standardError = FileHandle.nullDevice
            try cli.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            _ = try await SystemEnvironment.waitForExit(cli, timeout: .seconds(30))
            #expect(cli.terminationStatus == 0)
            #expect(text.contains("\(letterId),delivery_limit"), "\(text)")

            // Admins only, and unknown ids are a 404 with a message.
            let operatorKey = try await HTTP.call("POST", base + "/api/keys", key: key, body: #"{"name":"op","role":"operator"}"#)
            let op = try #require(operatorKey.json["key"] as? String)
            #expect(try await letters(op).status == 403)
            #expect(try await HTTP.call("POST", base + "/api/admin/dead-letters/\(letterId)/requeue", key: op).status == 403)
            let unknown = try await HTTP.call("DELETE", base + "/api/admin/dead-letters/dl-0000000000000000", key: key)
            #expect(unknown.status == 404)
            #expect(unknown.json["error"] is String)

            // Requeue: confirmed back on deploy.lxd (no deployer runs now), then handed out again.
            // Its deployment has ended, so the gateway tells that deployer to stop; it stays failed.
            let requeue = try await HTTP.call("POST", base + "/api/admin/dead-letters/\(letterId)/requeue", key: key)
            #expect(requeue.status == 200, "\(requeue.json)")
            #expect(requeue.json["deployment_status"] as? String == "failed")
            #expect(try await ours().isEmpty, "a requeued job leaves the list")
            #expect(try await stack.client.queueDepth(TargetType.lxd.deployQueue) == 1, "the job is back on its queue")
            deployer = try await stack.startDeployer()
            #expect(await next({ $0.step == .accept }) != nil, "the requeued job was handed out again")
            let stopped = await next({ $0.status.isTerminal })
            #expect(
                stopped?.status == .cancelled,
                "the deployer was told to stop: \(stopped.map { "\($0.status) \($0.step) \($0.message)" } ?? "no end")"
            )
            #expect(try await deployment()["status"] as? String == "failed")

            // A job a consumer gives up on (it cannot be decoded) is a dead letter too; drop it.
            try await stack.client.publish(OutgoingMessage(routingKey: TargetType.lxd.deployQueue, body: Array("not a job".utf8)))
            var rejected: [String: Any]?
            let third = ContinuousClock.now + .seconds(30)
            while rejected == nil && ContinuousClock.now < third {
                rejected = (try await letters().json["dead_letters"] as? [[String: Any]] ?? []).first { $0["reason"] as? String == "rejected" }
                try await Task.sleep(for: .milliseconds(200))
            }
            let dropped = try #require(rejected?["id"] as? String, "the undecodable job is listed")
            #expect((rejected?["detail"] as? String)?.contains("cannot decode") == true)
            #expect(rejected?["deployment_id"] == nil)
            let drop = try await HTTP.call("DELETE", base + "/api/admin/dead-letters/\(dropped)", key: key)
            #expect(drop.status == 200, "\(drop.json)")
            #expect(try await letters().json["total"] as? Int == 0)
            #expect(try await HTTP.call("DELETE", base + "/api/admin/dead-letters/\(dropped)", key: key).status == 404)

            // A well-formed job from a user that does not send jobs (here the harness's `guest`; in
            // production another service's stolen credentials) is dead-lettered unread.
            if SystemEnvironment.brokerUsers != nil {
                let forged = DeploymentRendered(
                    deploymentId: id,
                    instanceName: "forged-\(name)",
                    target: .lxd,
                    eggName: "debian-hello",
                    eggVersion: "1.0.0",
                    eggContentHash: "forged",
                    baseImage: "iceshelves/busybox",
                    userData: "#cloud-config\n",
                    metaData: "instance-id: forged\n",
                    lxdProfile: "config:\n  security.privileged: \"true\"\n",
                    destination: DeploymentTarget(clusterId: "\(clusterId)")
                )
                try await stack.client.publish(Envelope(forged, deploymentId: id), routingKey: TargetType.lxd.deployQueue)
                var refused: [String: Any]?
                let fourth = ContinuousClock.now + .seconds(30)
                while refused == nil && ContinuousClock.now < fourth {
                    refused = (try await letters().json["dead_letters"] as? [[String: Any]] ?? []).first {
                        ($0["detail"] as? String)?.contains("not a trusted publisher") == true
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let forgedLetter = try #require(refused?["id"] as? String, "the forged job is a dead letter")
                #expect((refused?["detail"] as? String)?.contains("'guest'") == true)
                #expect(try await HTTP.call("DELETE", base + "/api/admin/dead-letters/\(forgedLetter)", key: key).status == 200)
                let lxd = try await LXDConnector(timeout: .seconds(10), logger: Logger(label: "dead-letter-test")).connect(
                    try #require(TestLXD.unixSocket)
                )
                defer { lxd.close() }
                #expect(try await lxd.instance("forged-\(name)") == nil, "the forged job was never applied")
            }

            // One terminal state, one webhook.
            _ = try await receiver.waitForRequest(within: .seconds(20))
            try await Task.sleep(for: .seconds(1))
            #expect(receiver.all().filter { $0.body.contains(id) }.count == 1, "deployment.failed arrives exactly once")
        } catch {
            if let started { _ = try? await HTTP.call("DELETE", gateway.base + "/api/deployments/\(started)/cleanup", key: gateway.key) }
            gateway.stop()
            _ = try? await SystemEnvironment.waitForExit(gateway.process, timeout: .seconds(30))
            await stack.stop()
            throw error
        }
        // The deployers were killed before they created anything; remove whatever got that far.
        if let started { _ = try? await HTTP.call("DELETE", gateway.base + "/api/deployments/\(started)/cleanup", key: gateway.key) }
        gateway.stop()
        _ = try? await SystemEnvironment.waitForExit(gateway.process, timeout: .seconds(30))
        await stack.stop()
    }
}
