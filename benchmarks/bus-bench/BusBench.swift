import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging

/// Bus throughput and RPC latency against a running broker.
///
/// usage: bus-bench [amqp-url] [count] [size] [window] [prefetch] [rpc-calls]
/// Prints publish-with-confirms and consume-with-ack rates for `size`-byte persistent messages
/// on a durable queue, then the RPC round-trip p50/p99. `benchmarks/bus.sh` runs it beside the
/// raw rabbitmq-c baseline and prints the ratios.
///
/// The measured publish sets the same flags as the baseline's (not mandatory). Work messages
/// are published mandatory, which costs the broker more per message, so a second round of
/// `count` mandatory publishes is measured and printed on its own; it has no baseline twin.
@main
struct BusBench {
    static func main() async throws {
        let args = CommandLine.arguments
        func arg(_ i: Int, _ d: Int) -> Int { args.count > i ? Int(args[i]) ?? d : d }
        let url = try AMQPURL(parsing: args.count > 1 ? args[1] : "amqp://guest:guest@127.0.0.1:5672/")
        let count = arg(2, 100_000)
        let size = arg(3, 32)
        let window = arg(4, 1000)
        let prefetch = arg(5, 1000)
        let rpcCalls = arg(6, 2000)
        var logger = Logger(label: "bus-bench")
        logger.logLevel = .warning

        let publisher = AMQPClient(configuration: .init(url: url, name: "bench-pub"), logger: logger)
        let consumer = AMQPClient(configuration: .init(url: url, name: "bench-con"), logger: logger)
        publisher.start()
        consumer.start()
        try await publisher.waitUntilConnected()
        try await consumer.waitUntilConnected()

        let queue = "bench.bus"
        // A classic queue, like the raw baseline's, so that the ratio compares the clients only.
        try await publisher.declare(BusTopology(queues: [.init(name: queue, durable: true, deadLetter: false, quorum: false)]))
        try await publisher.purge(queue)
        let body = [UInt8](repeating: 0x61, count: size)
        let message = OutgoingMessage(
            routingKey: queue,
            body: body,
            properties: MessageProperties(contentType: "application/octet-stream", messageId: "m"),
            mandatory: false
        )
        print("bus-bench: \(url.redacted) count \(count) size \(size)B window \(window) prefetch \(prefetch)")

        let clock = ContinuousClock()
        /// `count` publishes, at most `window` of them waiting for their confirm.
        func publishAll(_ message: OutgoingMessage) async throws -> Duration {
            try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var sent = 0
                    while sent < min(window, count) {
                        group.addTask { try await publisher.publish(message) }
                        sent += 1
                    }
                    while try await group.next() != nil {
                        if sent < count {
                            group.addTask { try await publisher.publish(message) }
                            sent += 1
                        }
                    }
                }
            }
        }
        let pubTime = try await publishAll(message)
        let depth = try await publisher.queueDepth(queue)
        let pubRate = Double(count) / (pubTime / .seconds(1))
        print("publish+confirm: \(count) msgs in \(fmt(pubTime / .seconds(1))) s = \(Int(pubRate)) msg/s; queue depth \(depth)")

        let con = try await consumer.consume(queue: queue, prefetch: UInt16(clamping: prefetch))
        var received = 0
        let conTime = await clock.measure {
            for await delivery in con.deliveries {
                consumer.ack(delivery)
                received += 1
                if received == count { break }
            }
        }
        consumer.cancel(con)
        let conRate = Double(count) / (conTime / .seconds(1))
        print("consume+ack:     \(received) msgs in \(fmt(conTime / .seconds(1))) s = \(Int(conRate)) msg/s")

        // The same publishes as work messages go out: mandatory (the broker tracks each one's routing).
        var mandatory = message
        mandatory.mandatory = true
        let manTime = try await publishAll(mandatory)
        let manRate = Double(count) / (manTime / .seconds(1))
        print("publish+confirm, mandatory: \(count) msgs in \(fmt(manTime / .seconds(1))) s = \(Int(manRate)) msg/s")
        try await publisher.purge(queue)

        // RPC round trip: an in-process server on its own connection, calls one at a time.
        var router = RPCRouter()
        router.on(Ping.self) { _, _ in Pong(service: "bench", version: "0", instanceId: "bench", uptimeSeconds: 0) }
        let server = RPCServer(client: consumer, queue: "rpc.bench", router: router, concurrency: 4, logger: logger)
        // Declared before the first call: on a fresh broker a call could otherwise beat the
        // server's own declare and come back unroutable.
        try await consumer.declare(RPCServer.topology(queue: "rpc.bench"))
        var samples: [Double] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for _ in 0..<50 { _ = try? await publisher.call(Envelope(Ping()), queue: "rpc.bench", expecting: Pong.self, timeout: .seconds(2)) }
            for _ in 0..<rpcCalls {
                let t = clock.now
                _ = try await publisher.call(Envelope(Ping()), queue: "rpc.bench", expecting: Pong.self, timeout: .seconds(2))
                samples.append((clock.now - t) / .milliseconds(1))
            }
            group.cancelAll()
        }
        samples.sort()
        let p50 = samples[samples.count / 2]
        let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
        print("rpc round trip:  \(rpcCalls) calls p50 \(fmt(p50)) ms p99 \(fmt(p99)) ms")
        print(
            "RESULT publish_msgs_per_s=\(Int(pubRate)) consume_msgs_per_s=\(Int(conRate)) rpc_p50_ms=\(fmt(p50)) rpc_p99_ms=\(fmt(p99)) mandatory_publish_msgs_per_s=\(Int(manRate))"
        )
        await publisher.shutdown()
        await consumer.shutdown()
    }

    static func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
}
