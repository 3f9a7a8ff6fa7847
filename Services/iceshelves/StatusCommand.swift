import ArgumentParser

/// `iceshelves status`: the health of every service, as a list.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the health of every service (GET /api/services).",
        discussion: "Exits 1 when a service did not answer."
    )
    @OptionGroup var connection: GatewayOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let data = try await GatewayClient(connection).call("GET", "services")
        let services = data["services"]?.array ?? []
        try output.printList(services, defaults: ["service", "up", "version", "uptime_seconds", "latency_ms", "error"])
        if services.contains(where: { $0["up"] != .bool(true) }) { throw ExitCode(1) }
    }
}
