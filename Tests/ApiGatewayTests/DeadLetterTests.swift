import Foundation
import GRDB
import IceShelvesBus
import IceShelvesContracts
import Logging
import Synchronization
import Testing

@testable import ApiGateway

@Suite("Dead-lettered jobs")
struct DeadLetterTests {
    static func job(_ deploymentId: String, headers: [String: HeaderValue], messageId: String = "m-1") -> DeadLetter {
        let body = Array(
            #"{"type":"deployment.rendered","version":1,"message_id":"\#(messageId)","deployment_id":"\#(deploymentId)","payload":{}}"#.utf8
        )
        return DeadLetter(
            body: body,
            properties: MessageProperties(messageId: messageId, type: "deployment.rendered", headers: headers),
            queue: "deploy.lxd",
            deliveryLimit: 5
        )
    }

    static let crashed: [String: HeaderValue] = [
        BusNames.firstDeathReasonHeader: .string("delivery_limit"), BusNames.deliveryCountHeader: .int(5),
        "x-first-death-queue": .string("deploy.lxd"),
    ]

    @Test func readsTheBrokersAndTheConsumersReasons() {
        let limit = Self.job("dep-1", headers: Self.crashed)
        #expect(limit.reason == "delivery_limit")
        #expect(limit.count == 6)
        #expect(limit.deploymentId == "dep-1")
        #expect(limit.detail.contains("6 times"))
        #expect(limit.id.hasPrefix("dl-") && limit.id.count == 19)
        #expect(limit.id == Self.job("dep-1", headers: Self.crashed).id, "the same dead letter twice has one id")

        let rejected = Self.job(
            "dep-1",
            headers: [BusNames.deadReasonHeader: .string("handler failed 3 times: boom"), BusNames.attemptsHeader: .int(2)]
        )
        #expect(rejected.reason == "rejected")
        #expect(rejected.count == 3)
        #expect(rejected.detail == "handler failed 3 times: boom")

        // Counts come from headers anyone may set: the largest ones must not overflow (a crash loop).
        let hostile = Self.job(
            "dep-1",
            headers: [
                BusNames.attemptsHeader: .int(.max), BusNames.requeuesHeader: .int(.max), BusNames.deadReasonHeader: .string("x"),
            ]
        )
        #expect(hostile.count == 1_000_001 && hostile.requeues == 1_000_000)
        #expect(hostile.requeued.properties.headers[BusNames.requeuesHeader] == .int(1_000_001))
        let huge = Self.job("dep-1", headers: [BusNames.firstDeathReasonHeader: .string("delivery_limit"), BusNames.deliveryCountHeader: .int(.max)])
        #expect(huge.count == 1_000_001)

        let garbage = DeadLetter(body: Array("not json".utf8), properties: MessageProperties(), queue: "deploy.render", deliveryLimit: 5)
        #expect(garbage.deploymentId == nil)
        #expect(garbage.id.hasPrefix("dl-"))
    }

    @Test func aRequeuedJobStartsAfreshAndDiesAgainUnderANewId() {
        let letter = Self.job("dep-1", headers: Self.crashed.merging(["x-custom": .string("kept")]) { a, _ in a })
        let message = letter.requeued
        #expect(message.routingKey == "deploy.lxd" && message.exchange == "" && message.mandatory)
        #expect(message.body == letter.body)
        #expect(message.properties.messageId == "m-1")
        #expect(message.properties.persistent)
        #expect(message.properties.headers == ["x-custom": .string("kept"), BusNames.requeuesHeader: .int(1)])
        var again = Self.crashed
        again[BusNames.requeuesHeader] = .int(1)
        let second = Self.job("dep-1", headers: again)
        #expect(second.id != letter.id)
        #expect(second.requeues == 1)
    }

    @Test func headersSurviveTheDatabase() async throws {
        let store = DeadLetters(db: try GatewayDatabase.inMemory())
        let letter = Self.job("dep-1", headers: Self.crashed.merging(["flag": .bool(true)]) { a, _ in a })
        #expect(try await store.add(letter))
        #expect(try await !store.add(letter), "a redelivery is stored once")
        #expect(try await store.get(letter.id) == letter)
        #expect(try await store.list(limit: 10, offset: 0).total == 1)
        #expect(try await store.remove(letter.id))
        #expect(try await !store.remove(letter.id))
    }

    /// Stores the dead letter and fails its deployment once, with one webhook in the outbox; a
    /// deployment that has ended is left alone.
    @Test func theDeploymentFailsOnceAndAnEndedOneIsLeftAlone() async throws {
        let h = try await Harness(allowedHosts: "loopback")
        let ids = Mutex<[String]>([])
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#)
            _ = try await c.call(
                .post,
                "/iceshelves/api/webhooks",
                key: h.admin,
                json: #"{"url":"http://127.0.0.1:9/hook","events":["deployment.failed","deployment.completed"]}"#
            )
            for name in ["p-1", "p-2"] {
                let r = try await c.call(
                    .post,
                    "/iceshelves/api/deploy",
                    key: h.operatorKey,
                    json: #"{"egg_id":1,"cluster_id":1,"instance_name":"\#(name)"}"#
                )
                ids.withLock { $0.append(r.json["deployment_id"] as? String ?? "") }
            }
        }
        let (poisoned, done) = ids.withLock { ($0[0], $0[1]) }
        _ = try await h.gateway.recorder.record(done, DeploymentEvent(status: .inProgress, step: .accept, message: "taken"))
        _ = try await h.gateway.recorder.record(done, DeploymentEvent(status: .completed, step: .done, message: "done"))
        let ingest = DeadLetterIngest(
            client: AMQPClient(configuration: .init(name: "unused"), logger: Logger(label: "t")),
            deadLetters: h.gateway.deadLetters,
            ledger: h.gateway.ledger,
            recorder: h.gateway.recorder,
            deliveryLimit: 5,
            senders: ["cloud-init-renderer"],
            logger: Logger(label: "t")
        )
        func logCount(_ id: String) async throws -> Int {
            try await h.gateway.ledger.db.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deployment_log WHERE deployment_id = ?", arguments: [id]) ?? 0
            }
        }
        let doneLogs = try await logCount(done)
        let letter = Self.job(poisoned, headers: Self.crashed)
        try await ingest.handle(letter)
        try await ingest.handle(letter)  // delivered again after a crash before the ack
        try await ingest.handle(Self.job(done, headers: Self.crashed, messageId: "m-2"))

        let failed = try #require(try await h.gateway.ledger.get(poisoned))
        #expect(failed.status == .failed)
        #expect(failed.error?.contains("dead-lettered from deploy.lxd (delivery_limit)") == true, "\(failed.error ?? "")")
        #expect(try await h.gateway.ledger.get(done)?.status == .completed)
        let hooks = try await h.gateway.ledger.db.writer.read { db in try String.fetchAll(db, sql: "SELECT event FROM webhook_delivery ORDER BY id") }
        #expect(hooks == ["deployment.completed", "deployment.failed"], "one webhook per terminal state")
        #expect(try await logCount(done) == doneLogs, "the ended deployment's log is untouched")
        #expect(try await h.gateway.deadLetters.list(limit: 10, offset: 0).total == 2)
    }

    @Test func adminsListRequeueAndDropDeadLetters() async throws {
        let h = try await Harness()
        let letter = Self.job("dep-unknown", headers: Self.crashed)
        try await h.gateway.deadLetters.add(letter)
        let other = Self.job("dep-other", headers: Self.crashed, messageId: "m-9")
        try await h.gateway.deadLetters.add(other)
        try await h.run { c in
            let base = "/iceshelves/api/admin/dead-letters"
            for key in [h.operatorKey, h.viewer] {
                #expect(try await c.call(.get, base, key: key).status == .forbidden)
                #expect(try await c.call(.post, base + "/\(letter.id)/requeue", key: key).status == .forbidden)
                #expect(try await c.call(.delete, base + "/\(letter.id)", key: key).status == .forbidden)
            }
            let list = try await c.call(.get, base, key: h.admin)
            #expect(list.status == .ok)
            #expect(list.json["total"] as? Int == 2)
            let first = try #require((list.json["dead_letters"] as? [[String: Any]])?.first { $0["id"] as? String == letter.id })
            #expect(first["queue"] as? String == "deploy.lxd")
            #expect(first["deployment_id"] as? String == "dep-unknown")
            #expect(first["reason"] as? String == "delivery_limit")
            #expect(first["count"] as? Int == 6)
            #expect(first["dead_at"] is String)
            #expect(first["body"] == nil, "metadata only")

            let unknown = try await c.call(.post, base + "/dl-0000000000000000/requeue", key: h.admin)
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"] is String)
            #expect(try await c.call(.delete, base + "/" + String(repeating: "x", count: 500), key: h.admin).status == .notFound)

            let requeue = try await c.call(.post, base + "/\(letter.id)/requeue", key: h.admin)
            #expect(requeue.status == .ok, "\(requeue.text)")
            #expect(h.bus.republished.withLock { $0.map(\.routingKey) } == ["deploy.lxd"])
            #expect(try await c.call(.post, base + "/\(letter.id)/requeue", key: h.admin).status == .notFound, "requeued once, then gone")

            // A job its consumer refused for its publisher is not sent again as the gateway.
            let forged = Self.job(
                "dep-forged",
                headers: [BusNames.deadReasonHeader: .string("not a trusted publisher: 'egg-catalog' may not send jobs to deploy.lxd")],
                messageId: "m-forged"
            )
            try await h.gateway.deadLetters.add(forged)
            let refused = try await c.call(.post, base + "/\(forged.id)/requeue", key: h.admin)
            #expect(refused.status == .conflict && (refused.json["error"] as? String)?.contains("Drop it") == true, "\(refused.text)")
            #expect(try await c.call(.delete, base + "/\(forged.id)", key: h.admin).status == .ok)

            #expect(try await c.call(.delete, base + "/\(other.id)", key: h.admin).status == .ok)
            #expect(try await c.call(.get, base, key: h.admin).json["total"] as? Int == 0)
            #expect(h.bus.republished.withLock { $0.count } == 1, "a dropped job is not published")
        }
    }
}
