import Foundation
import Testing

/// A real api-gateway process on a random loopback port, for REST tests; its admin key read from its data folder.
final class RESTGateway: @unchecked Sendable {
    let base: String
    let key: String
    private let process: Process
    private let data: String

    init(url: String, arguments: [String] = ["--allow-insecure-libvirt", "1", "--allowed-hosts", "loopback"]) async throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("rest-\(UUID().uuidString.prefix(8))").path
        let port = Int.random(in: 45000...49999)
        process = try SystemEnvironment.launch(
            "api-gateway",
            arguments: ["--metrics-port=-1", "--http-port", "\(port)", "--data-dir", data] + arguments,
            url: url
        )
        base = "http://127.0.0.1:\(port)/iceshelves"
        let key = try await GatewayProcess.adminKey(base: base, data: data, until: .now + .seconds(30)) ?? ""
        self.key = key
        if key.isEmpty {
            stop()
            Issue.record("the gateway did not come up")
            throw CancellationError()
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: data)
    }
}
