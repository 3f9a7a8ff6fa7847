import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesTestSupport
import Testing

/// A poison job: every lxd-deployer that takes it dies (the test kills it with SIGKILL as soon as
/// it reports `accept`). The quorum job queue dead-letters it after its delivery limit, and the
/// gateway marks the deployment failed, once, and lists the job for admins to requeue or drop.
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
        let environment = ["ICESHELVES_DELIVERY_LIMIT": "\(Self.limit)"]
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let stack = try await LXDStack(gatewayStandIn: false, url: Self.url, environment: environment)
        let gateway = try await GatewayProcess(amqpURL: Self.url!, arguments: ["--allowed-hosts", "loopback"], environment: environment)
        var deployer = try await stack.startDeployer()
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
            var accepts = consumer.deliveries.compactMap { d -> Bool? in
                stack.client.ack(d)
                return (try? MessageCodec.decode(DeploymentEvent.self, from: d.body))?.payload.step == .accept ? true : nil
            }.makeAsyncIterator()

            /// Kills the deployer each time it takes the job, until the broker gives the job up.
            func crashUntilDeadLettered() async throws -> Int {
                var kills = 0
                while kills < Self.limit + 1 {
                    let watchdog = Task {
                        try await Task.sleep(for: .seconds(60))
                        stack.client.cancel(consumer)  // ends the stream: no deployer took the job
                    }
                    let took = await accepts.next()
                    watchdog.cancel()
                    guard took == true else { break }
                    kill(deployer.processIdentifier, SIGKILL)
                    _ = try await SystemEnvironment.waitForExit(deployer, timeout: .seconds(10))
                    kills += 1
                    deployer = try await stack.startDeployer()
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

            // Requeue: the job is on deploy.lxd again and the next deployer takes it; it crashes
            // that one too, and comes back as a new dead letter. The deployment stays failed.
            let requeue = try await HTTP.call("POST", base + "/api/admin/dead-letters/\(letterId)/requeue", key: key)
            #expect(requeue.status == 200, "\(requeue.json)")
            #expect(try await ours().isEmpty, "a requeued job leaves the list")
            #expect(try await crashUntilDeadLettered() == Self.limit + 1, "the requeued job was handed out again")
            var again: [[String: Any]] = []
            let second = ContinuousClock.now + .seconds(30)
            while again.isEmpty && ContinuousClock.now < second {
                again = try await ours()
                try await Task.sleep(for: .milliseconds(200))
            }
            let newId = try #require(again.first?["id"] as? String, "dead-lettered again")
            #expect(newId != letterId)
            #expect(again.first?["requeues"] as? Int == 1)
            #expect(try await deployment()["status"] as? String == "failed")

            // Drop.
            let drop = try await HTTP.call("DELETE", base + "/api/admin/dead-letters/\(newId)", key: key)
            #expect(drop.status == 200, "\(drop.json)")
            #expect(try await ours().isEmpty)
            #expect(try await HTTP.call("DELETE", base + "/api/admin/dead-letters/\(newId)", key: key).status == 404)

            // One terminal state, one webhook.
            _ = try await receiver.waitForRequest(within: .seconds(20))
            try await Task.sleep(for: .seconds(1))
            #expect(receiver.all().filter { $0.body.contains(id) }.count == 1, "deployment.failed arrives exactly once")
            // The deployers were killed before they created anything; remove whatever got that far.
            _ = try? await HTTP.call("DELETE", base + "/api/deployments/\(id)/cleanup", key: key)
        } catch {
            gateway.stop()
            await stack.stop()
            throw error
        }
        gateway.stop()
        await stack.stop()
    }
}
