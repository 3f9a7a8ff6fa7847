import Foundation
import IceShelvesContracts
import IceShelvesTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the API caller learns about an endpoint that is not a working LXD server (or webhook
/// receiver) must not tell a closed port from an open one that speaks something else: otherwise
/// cluster tests and webhooks map the internal ports (issue 10, part 5).
@Suite(
    "No port oracle in API answers (real gateway, lxd-deployer, RabbitMQ)",
    .serialized,
    .enabled(if: LXDStack.ready && TestLXD.https != nil, "run scripts/lxd-env up and set ICESHELVES_TEST_LXD_AMQP_URL (scripts/test does)")
)
struct PortOracleTests {
    /// A loopback port nothing listens on: bound, read, closed.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test func aClosedPortAndOpenNonLXDPortsReadTheSameToTheCaller() async throws {
        let https = try #require(TestLXD.https)
        let closed = try Self.closedPort()
        // Open ports that are not LXD: the broker's AMQP listener and the gateway's plain HTTP.
        let stackURL = try #require(LXDStack.url)
        let amqpPort = try #require(URLComponents(string: stackURL)?.port)
        let stack = try await LXDStack(gatewayStandIn: false)
        do {
            try await stack.startDeployer()
            try await check(closed: closed, amqpPort: amqpPort, https: https)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    func check(closed: Int, amqpPort: Int, https: ClusterConnection) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let httpPort = Int.random(in: 45000...47999)
        let gateway = try SystemEnvironment.launch(
            "api-gateway",
            arguments: ["--metrics-port=-1", "--http-port", "\(httpPort)", "--data-dir", data, "--allowed-hosts", "loopback"],
            url: LXDStack.url
        )
        defer { if gateway.isRunning { kill(gateway.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(httpPort)/iceshelves"
        var key = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, key.isEmpty {
            if let k = try? String(contentsOfFile: data + "/admin.key", encoding: .utf8),
                (try? await HTTP.call("GET", base + "/healthz"))?.status == 200
            {
                key = k.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try #require(!key.isEmpty, "the gateway did not come up")

        // Webhooks to the same ports, told about each cluster's status change.
        var hooks: [Int64] = []
        for port in [closed, amqpPort, httpPort] {
            let hook = try await HTTP.call(
                "POST",
                base + "/api/webhooks",
                key: key,
                body: #"{"url":"http://127.0.0.1:\#(port)/hook","events":["cluster.status_changed"]}"#
            )
            try #require(hook.status == 201, "\(hook.json)")
            hooks.append(try #require((hook.json["id"] as? NSNumber)?.int64Value))
        }

        var messages: [String] = []
        for (i, port) in [closed, amqpPort, httpPort].enumerated() {
            let body: [String: Any] = [
                "name": "oracle-\(i)", "connection_method": "direct-api", "endpoint_url": "https://127.0.0.1:\(port)",
                "client_cert": https.clientCert ?? "", "client_key": https.clientKey ?? "", "server_cert": https.serverCert ?? "",
            ]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            let created = try await HTTP.call("POST", base + "/api/clusters", key: key, body: json)
            try #require(created.status == 201, "\(created.json)")
            let id = try #require((created.json["cluster_id"] as? NSNumber)?.intValue)
            let test = try await HTTP.call("POST", base + "/api/clusters/\(id)/test", key: key)
            #expect(test.status == 200, "\(test.json)")
            #expect(test.json["status"] as? String == "error", "\(test.json)")
            let message = (test.json["details"] as? [String: Any])?["message"] as? String ?? ""
            messages.append(message)
            // The stored health message, which viewers read, is the same one.
            let detail = try await HTTP.call("GET", base + "/api/clusters/\(id)", key: key)
            let health = ((detail.json["data"] as? [String: Any])?["health"] as? [String: Any])?["message"] as? String
            #expect(health == message, "\(detail.json)")
        }
        #expect(Set(messages).count == 1, "the caller can tell the ports apart: \(messages)")
        for word in ["refused", "timed out", "timeout", "TLS", "SSL", "handshake", "reset", "\(closed)", "\(amqpPort)"] {
            #expect(!messages[0].localizedCaseInsensitiveContains(word), "\(messages[0])")
        }

        // Each webhook's failed delivery reads the same too.
        var errors: [String] = []
        for hook in hooks {
            var lastError: String?
            let until = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < until, lastError == nil {
                let list = try await HTTP.call("GET", base + "/api/webhooks/\(hook)/deliveries", key: key)
                let deliveries = (list.json["data"] as? [String: Any])?["deliveries"] as? [[String: Any]] ?? []
                lastError = deliveries.compactMap { $0["last_error"] as? String }.first
                if lastError == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            errors.append(lastError ?? "no delivery attempt")
        }
        // The closed port and the AMQP port give no HTTP answer and read the same; the gateway's
        // own port answers HTTP (an error status), which a webhook may show.
        #expect(errors[0] == errors[1], "\(errors)")
        #expect(!errors[0].localizedCaseInsensitiveContains("refused") && !errors[0].localizedCaseInsensitiveContains("connect"), "\(errors)")
        kill(gateway.processIdentifier, SIGTERM)
        _ = try? await SystemEnvironment.waitForExit(gateway, timeout: .seconds(30))
    }
}
