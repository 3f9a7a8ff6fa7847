import Foundation
import Testing

/// A real `api-gateway` on a random loopback port with a data folder of its own, and the admin
/// key it wrote on first start.
final class GatewayProcess: @unchecked Sendable {
    let process: Process
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString.prefix(8))").path
    let base: String
    private(set) var key = ""

    init(amqpURL: String, arguments extra: [String] = [], environment: [String: String] = [:]) async throws {
        let port = Int.random(in: 45000...49999)
        base = "http://127.0.0.1:\(port)/iceshelves"
        process = try SystemEnvironment.launch(
            "api-gateway",
            arguments: ["--metrics-port=-1", "--http-port", "\(port)", "--data-dir", data] + extra,
            url: amqpURL,
            extraEnvironment: environment
        )
        key = try await Self.adminKey(base: base, data: data, until: .now + .seconds(30)) ?? ""
        if key.isEmpty { stop() }
        try #require(!key.isEmpty, "the gateway did not come up")
    }

    /// Waits until a gateway started with `--data-dir data` answers `GET base/healthz` and has
    /// written its admin key; returns the key, or `nil` when `deadline` passed first.
    static func adminKey(base: String, data: String, until deadline: ContinuousClock.Instant) async throws -> String? {
        while ContinuousClock.now < deadline {
            if let k = try? String(contentsOfFile: data + "/admin.key", encoding: .utf8),
                (try? await HTTP.call("GET", base + "/healthz"))?.status == 200
            {
                return k.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        try? FileManager.default.removeItem(atPath: data)
    }
}
