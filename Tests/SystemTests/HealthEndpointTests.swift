import Foundation
import IceShelvesContracts
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real service's HTTP side door: liveness and Prometheus metrics on loopback.
@Suite(
    "Health and metrics endpoint",
    .enabled(if: SystemEnvironment.ready, "set ICESHELVES_TEST_AMQP_URL and ICESHELVES_BIN_DIR (scripts/test does)")
)
struct HealthEndpointTests {
    /// A port that was free a moment ago, on loopback.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test func healthzAndMetricsAnswerOnLoopback() async throws {
        let port = Self.freePort()
        let process = try SystemEnvironment.launch("agent-broker", arguments: ["--metrics-port", String(port)])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var health: (Int, String)?
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let r = try? await Self.get("http://127.0.0.1:\(port)/healthz"), r.0 == 200 {
                health = r
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let (status, body) = try #require(health, "no healthy /healthz within 30 s")
        #expect(status == 200)
        #expect(body.contains(#""status":"ok""#))
        let (mStatus, metrics) = try await Self.get("http://127.0.0.1:\(port)/metrics")
        #expect(mStatus == 200)
        #expect(metrics.contains("iceshelves_service_info"))
        kill(process.processIdentifier, SIGTERM)
        _ = try await SystemEnvironment.waitForExit(process, timeout: .seconds(20))
        #expect(process.terminationStatus == 0)
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
