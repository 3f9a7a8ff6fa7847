import Foundation
import IceShelvesBus
import Testing

/// `amqps://` against the real broker behind a loopback TLS listener (socat) whose certificate a
/// CA made here signs: a publish and a consume go through, and a client trusting another CA is refused.
@Suite(
    "AMQPS (real RabbitMQ behind TLS)",
    .enabled(if: TestBroker.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/socat"), "needs ICESHELVES_TEST_AMQP_URL and socat")
)
struct TLSTests {
    /// Runs a program and waits for it; throws when it fails.
    static func run(_ path: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    }

    /// A CA in `dir` (`name.pem`, `name.key`).
    static func makeCA(_ dir: String, _ name: String) throws {
        try run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=\(name)", "-keyout", "\(dir)/\(name).key", "-out",
                "\(dir)/\(name).pem",
            ]
        )
    }

    @Test func aTLSConnectionWorksAndAWrongCAIsRefused() async throws {
        let broker = try #require(TestBroker.url)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.makeCA(dir, "ca")
        try Self.makeCA(dir, "other-ca")
        try Self.run(
            "/usr/bin/openssl",
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr"]
        )
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: "\(dir)/san.ext", atomically: true, encoding: .utf8)
        try Self.run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", "\(dir)/server.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key", "-CAcreateserial", "-days", "1",
                "-extfile", "\(dir)/san.ext", "-out", "\(dir)/server.pem",
            ]
        )
        let port = Int.random(in: 40000...44999)
        let socat = Process()
        socat.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
        socat.arguments = [
            "OPENSSL-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork,cert=\(dir)/server.pem,key=\(dir)/server.key,verify=0",
            "TCP:127.0.0.1:\(broker.port)",
        ]
        socat.standardOutput = FileHandle.nullDevice
        socat.standardError = FileHandle.nullDevice
        try socat.run()
        defer { kill(socat.processIdentifier, SIGTERM) }
        try await Task.sleep(for: .milliseconds(300))

        var url = broker
        url.host = "localhost"
        url.port = port
        url.tls = true
        url.caFile = "\(dir)/ca.pem"
        let client = try await TestBroker.client("tls", url: url)
        let queue = TestBroker.queue("tls")
        try await client.declare(BusTopology(queues: [.init(name: queue, durable: false, deadLetter: false, exclusive: true)]))
        try await client.publish(OutgoingMessage(routingKey: queue, body: Array("over tls".utf8)))
        let consumer = try await client.consume(queue: queue, prefetch: 1)
        for await delivery in consumer.deliveries {
            #expect(String(decoding: delivery.body, as: UTF8.self) == "over tls")
            client.ack(delivery)
            break
        }
        await client.shutdown()

        url.caFile = "\(dir)/other-ca.pem"
        let untrusting = AMQPClient(configuration: .init(url: url, name: "tls-wrong-ca"), logger: TestBroker.logger("tls-wrong-ca"))
        untrusting.start()
        try await Task.sleep(for: .seconds(2))
        #expect(!untrusting.isConnected, "a broker certificate from another CA must be refused")
        await untrusting.shutdown()
    }
}
