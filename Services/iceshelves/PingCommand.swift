import ArgumentParser
import Foundation
import IceShelvesContracts
import IceShelvesSettings

/// `iceshelves ping [SERVICE...]`: asks the gateway for every service's health (the gateway
/// pings each over the bus) and prints who answered.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Ask the gateway which services are up.",
        discussion: "Calls GET /iceshelves/api/services. Exits 1 when a service named (or any, when none is named) did not answer."
    )

    @OptionGroup var connection: GatewayOptions

    @Argument(
        help: ArgumentHelp(
            "Services to report (default: all of them): \(ServicesHealth.busServices.map(\.rawValue).joined(separator: ", ")).",
            valueName: "service"
        )
    )
    var services: [String] = []

    func validate() throws {
        for s in services where ServiceName(rawValue: s).map(ServicesHealth.busServices.contains) != true {
            throw ValidationError("unknown service '\(s.prefix(40))'")
        }
    }

    func run() async throws {
        let client = try GatewayClient(connection)
        let health = try await client.get("services", as: ServicesHealth.self)
        let wanted = services.isEmpty ? health.services : health.services.filter { services.contains($0.service.rawValue) }
        var failed = false
        for s in wanted {
            if s.up {
                let ms = s.latencyMs.map { String(format: "%.2f ms", $0) } ?? "?"
                print("\(s.service.rawValue): up \(Int(s.uptimeSeconds ?? 0)) s, version \(s.version ?? "?"), instance \(s.instanceId ?? "?"), \(ms)")
            } else {
                failed = true
                print("\(s.service.rawValue): \(s.error ?? "no answer")")
            }
        }
        if failed { throw ExitCode(1) }
    }
}
