import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Testing

/// The real egg-catalog and cloud-init-renderer processes, over a real broker: a deployment
/// request goes in on `deploy.render` and comes out rendered on `deploy.<target>`, with events.
@Suite(
    "Render pipeline",
    .enabled(if: SystemEnvironment.ready, "set ICESHELVES_TEST_AMQP_URL and ICESHELVES_BIN_DIR (scripts/test does)"),
    .serialized
)
struct RenderPipelineTests {
    func withServices(_ body: (AMQPClient) async throws -> Void) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)").path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let catalog = try SystemEnvironment.launch(
            "egg-catalog",
            arguments: ["--metrics-port", "0", "--eggs-dir", root + "/eggs", "--data-dir", data]
        )
        let renderer = try SystemEnvironment.launch("cloud-init-renderer", arguments: ["--metrics-port", "0"])
        defer {
            for p in [catalog, renderer] where p.isRunning { kill(p.processIdentifier, SIGTERM) }
            try? FileManager.default.removeItem(atPath: data)
        }
        let logger = {
            var l = Logger(label: "pipeline-test")
            l.logLevel = .warning
            return l
        }()
        let client = AMQPClient(configuration: .init(url: SystemEnvironment.url!, name: "pipeline-test"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        for service in [ServiceName.eggCatalog, .cloudInitRenderer] {
            var up = false
            let deadline = ContinuousClock.now + .seconds(30)
            while !up && ContinuousClock.now < deadline {
                up = (try? await client.call(Envelope(Ping()), service: service, expecting: Pong.self, timeout: .milliseconds(500))) != nil
                if !up { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(up, "\(service.rawValue) did not start")
        }
        try await body(client)
        await client.shutdown()
        for p in [catalog, renderer] {
            kill(p.processIdentifier, SIGTERM)
            _ = try await SystemEnvironment.waitForExit(p, timeout: .seconds(20))
            #expect(p.terminationStatus == 0)
        }
    }

    @Test func aRequestIsRenderedToTheDeployerQueueWithEvents() async throws {
        try await withServices { client in
            let id = "dep-\(UUID().uuidString.prefix(8).lowercased())"
            let events = "test.events.\(id)"
            try await client.declare(
                .eventListener(events, binding: BusNames.progressBinding(deploymentId: id)).merging(.workQueue(TargetType.lxd.deployQueue))
            )
            let request = DeploymentRequested(
                deploymentId: id,
                eggName: "debian-hello",
                instanceName: "hello-1",
                target: .lxd,
                variables: ["greeting": .string("hi\n- evil: true")],
                overrides: .init(hostname: "hello-one")
            )
            try await client.publish(Envelope(request, deploymentId: id), routingKey: BusNames.renderQueue)

            let consumer = try await client.consume(queue: TargetType.lxd.deployQueue, prefetch: 10)
            var rendered: DeploymentRendered?
            for await delivery in consumer.deliveries {
                guard let e = try? MessageCodec.decode(DeploymentRendered.self, from: delivery.body), e.deploymentId == id else {
                    client.reject(delivery, requeue: true)
                    continue
                }
                client.ack(delivery)
                rendered = e.payload
                break
            }
            client.cancel(consumer)
            let r = try #require(rendered)
            #expect(r.userData.contains("hostname: \"hello-one\""))
            #expect(r.userData.contains("content: \"hi\\n- evil: true\""))
            #expect(r.metaData.contains("iid-\(id)"))
            #expect(r.eggName == "debian-hello")
            #expect(r.eggContentHash.count == 64)

            let eventConsumer = try await client.consume(queue: events, prefetch: 10)
            var statuses: [DeploymentStatus] = []
            for await delivery in eventConsumer.deliveries {
                client.ack(delivery)
                statuses.append(try MessageCodec.decode(DeploymentEvent.self, from: delivery.body).payload.status)
                if statuses.count == 2 { break }
            }
            #expect(statuses == [.rendering, .queued])
            client.cancel(eventConsumer)
        }
    }

    @Test func previewRendersKvmSeedsAndRefusesBadInput() async throws {
        try await withServices { client in
            let request = DeploymentRequested(deploymentId: "preview-1", eggName: "debian-hello", instanceName: "vm-1", target: .kvm)
            let preview = try await client.call(
                Envelope(RenderPreviewRequest(request: request, includeSeed: true)),
                service: .cloudInitRenderer,
                expecting: DeploymentRendered.self,
                timeout: .seconds(10)
            ).payload
            #expect(preview.kvmConfig?.contains("<domain") == true)
            let seed = try #require(preview.seedISOBase64.flatMap { Data(base64Encoded: $0) })
            #expect(seed.count > 32_768)
            #expect(String(decoding: seed[32_808..<32_814], as: UTF8.self) == "cidata")  // the primary volume descriptor's label

            var bad = request
            bad.variables = ["undeclared": .string("x")]
            do {
                _ = try await client.call(
                    Envelope(RenderPreviewRequest(request: bad)),
                    service: .cloudInitRenderer,
                    expecting: DeploymentRendered.self,
                    timeout: .seconds(10)
                )
                Issue.record("an undeclared variable was accepted")
            } catch let e as RPCError {
                #expect(e.code == "bad_request")
                #expect(e.message.contains("not declared"))
            }
            var missing = request
            missing.eggName = "no-such-egg"
            await #expect(throws: RPCError.self) {
                _ = try await client.call(
                    Envelope(RenderPreviewRequest(request: missing)),
                    service: .cloudInitRenderer,
                    expecting: DeploymentRendered.self,
                    timeout: .seconds(10)
                )
            }
        }
    }
}
