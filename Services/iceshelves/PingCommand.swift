import ArgumentParser
import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesService
import Logging

/// `iceshelves ping [SERVICE...]`: asks services over the bus whether they are alive.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Ping services over the bus and print who answered.",
        discussion: "Exits 1 when any service does not answer within the timeout.")

    @Option(name: .customLong("amqp-url"), help: ArgumentHelp("AMQP broker URL. Env: ICESHELVES_AMQP_URL. Default: amqp://guest:guest@127.0.0.1:5672/", valueName: "url"))
    var amqpURL: String?

    @Option(help: ArgumentHelp("Seconds to wait for each answer.", valueName: "seconds"))
    var timeout: Double = 3

    @Argument(help: ArgumentHelp("Services to ping (default: all of them): \(ServiceName.allCases.filter { $0 != .agent }.map(\.rawValue).joined(separator: ", "))."))
    var services: [String] = []

    func validate() throws {
        guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be between 0 and 300 seconds") }
        for s in services where ServiceName(rawValue: s) == nil {
            throw ValidationError("unknown service '\(s)'")
        }
    }

    func run() async throws {
        let url = try AMQPURL(parsing: amqpURL ?? Environment.value("ICESHELVES_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672/")
        var logger = Logger(label: "iceshelves")
        logger.logLevel = .error
        let client = AMQPClient(configuration: .init(url: url, name: "iceshelves-cli"), logger: logger)
        client.start()
        do {
            try await client.waitUntilConnected(timeout: .seconds(timeout))
        } catch {
            await client.shutdown()
            throw error
        }
        let targets = services.isEmpty ? ServiceName.allCases.filter { $0 != .agent } : services.compactMap(ServiceName.init(rawValue:))
        var failed = false
        for target in targets {
            let clock = ContinuousClock()
            let start = clock.now
            do {
                let pong = try await client.call(Envelope(Ping()), service: target, expecting: Pong.self, timeout: .seconds(timeout))
                let ms = (clock.now - start) / .milliseconds(1)
                print("\(target.rawValue): up \(Int(pong.payload.uptimeSeconds)) s, version \(pong.payload.version), instance \(pong.payload.instanceId), \(String(format: "%.2f", ms)) ms")
            } catch {
                failed = true
                print("\(target.rawValue): no answer (\(error))")
            }
        }
        await client.shutdown()
        if failed { throw ExitCode(1) }
    }
}
