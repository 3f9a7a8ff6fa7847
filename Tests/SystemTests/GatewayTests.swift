import Crypto
import Foundation
import IceShelvesBus
import IceShelvesContracts
import Testing

/// The real api-gateway with the real catalog and renderer on a broker vhost of their own, and
/// no deployer: a deployment stays queued, can be cancelled, times out, and the timeout's
/// webhook reaches a test HTTP server with a valid signature.
@Suite(
    "Gateway with the real bus, catalog and renderer",
    .serialized,
    .enabled(if: SystemEnvironment.gatewayURL != nil && SystemEnvironment.binDir != nil, "set ICESHELVES_TEST_GW_AMQP_URL (scripts/test does)")
)
struct GatewayTests {
    static let url = SystemEnvironment.gatewayURL

    struct Stack {
        var processes: [Process]
        var base: String
        var key: String
        var data: String
    }

    func withStack(timeout: Int, _ body: (Stack) async throws -> Void) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let port = Int.random(in: 20000...29999)
        var processes = [
            try SystemEnvironment.launch(
                "egg-catalog",
                arguments: ["--metrics-port=-1", "--eggs-dir", root + "/eggs", "--data-dir", data + "/catalog"],
                url: Self.url
            ),
            try SystemEnvironment.launch("cloud-init-renderer", arguments: ["--metrics-port=-1"], url: Self.url),
        ]
        processes.append(
            try SystemEnvironment.launch(
                "api-gateway",
                arguments: [
                    "--metrics-port=-1", "--http-port", "\(port)", "--data-dir", data + "/gw",
                    "--deployment-timeout", "\(timeout)", "--queue-timeout", "\(timeout)", "--allowed-hosts", "loopback",
                ],
                url: Self.url
            )
        )
        defer {
            for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
            try? FileManager.default.removeItem(atPath: data)
        }
        let base = "http://127.0.0.1:\(port)/iceshelves"
        var key = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let k = try? String(contentsOfFile: data + "/gw/admin.key", encoding: .utf8),
                (try? await HTTP.call("GET", base + "/healthz"))?.status == 200
            {
                key = k.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(!key.isEmpty, "the gateway did not come up")
        // The catalog must have imported the eggs.
        while ContinuousClock.now < deadline, (try? await HTTP.call("GET", base + "/api/eggs/debian-hello", key: key))?.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await body(Stack(processes: processes, base: base, key: key, data: data))
        for p in processes {
            kill(p.processIdentifier, SIGTERM)
            _ = try await SystemEnvironment.waitForExit(p, timeout: .seconds(20))
        }
        // No deployer ran here: drop what the renderer queued for one.
        let client = AMQPClient(configuration: .init(url: try AMQPURL(parsing: Self.url!), name: "gw-test-cleanup"), logger: .init(label: "gw-test"))
        client.start()
        try await client.waitUntilConnected()
        try? await client.purge(TargetType.lxd.deployQueue)
        await client.shutdown()
    }

    func status(_ s: Stack, _ id: String) async throws -> String? {
        try await HTTP.call("GET", s.base + "/api/deployments/\(id)", key: s.key).json["status"] as? String
    }

    func waitForStatus(_ s: Stack, _ id: String, _ wanted: String, within: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if try await status(s, id) == wanted { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func withoutADeployerADeploymentStaysQueuedAndCanBeCancelled() async throws {
        try await withStack(timeout: 600) { s in
            let cluster = try await HTTP.call(
                "POST",
                s.base + "/api/clusters",
                key: s.key,
                body: #"{"name":"nobody-home","connection_method":"unix-socket"}"#
            )
            #expect(cluster.status == 201)
            // Live progress: all events as Server-Sent Events, read by curl for a few seconds.
            let sseFile = s.data + "/events.txt"
            let sse = Process()
            sse.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            sse.arguments = ["-s", "-N", "--max-time", "6", "-o", sseFile, "-H", "Authorization: Bearer \(s.key)", s.base + "/api/events"]
            sse.standardError = FileHandle.nullDevice
            try sse.run()
            try await Task.sleep(for: .milliseconds(500))
            let deploy = try await HTTP.call(
                "POST",
                s.base + "/api/deploy",
                key: s.key,
                body: #"{"egg_id":"debian-hello","cluster_id":1,"instance_name":"q-1","variables":{"greeting":"hi"}}"#
            )
            #expect(deploy.status == 201, "\(deploy.json)")
            let id = try #require(deploy.json["deployment_id"] as? String)
            #expect(try await waitForStatus(s, id, "queued", within: .seconds(20)), "the renderer should move it to queued")
            try await Task.sleep(for: .seconds(2))
            #expect(try await status(s, id) == "queued", "with no deployer it stays queued")
            let logs = try await HTTP.call("GET", s.base + "/api/deployments/\(id)/logs", key: s.key)
            #expect(
                (logs.json["logs"] as? [[String: Any]])?.contains { ($0["message"] as? String)?.contains("queued for the lxd deployer") == true }
                    == true
            )

            while sse.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            let stream = (try? String(contentsOfFile: sseFile, encoding: .utf8)) ?? ""
            #expect(stream.contains("event: deployment"), "the event stream: \(stream.prefix(300))")
            #expect(stream.contains("\"deployment_id\":\"\(id)\"") && stream.contains("\"status\":\"queued\""))

            let cancel = try await HTTP.call("POST", s.base + "/api/deployments/\(id)/cancel", key: s.key)
            #expect(cancel.status == 200)
            #expect(try await status(s, id) == "cancelled")

            let bad = try await HTTP.call(
                "POST",
                s.base + "/api/deploy",
                key: s.key,
                body: #"{"egg_id":"debian-hello","cluster_id":1,"instance_name":"q-2","variables":{"nope":"x"}}"#
            )
            #expect(bad.status == 201)
            let badId = try #require(bad.json["deployment_id"] as? String)
            #expect(try await waitForStatus(s, badId, "failed", within: .seconds(20)), "an undeclared variable fails at rendering")
        }
    }

    /// Read in the code: cluster private keys travelled inside every persistent `deploy.*` job,
    /// and dead-lettered copies stayed forever. Now jobs name the cluster; read every job and
    /// dead-letter queue back from the broker and look for the key.
    @Test func noQueuedMessageCarriesAClustersPrivateKey() async throws {
        try await withStack(timeout: 600) { s in
            let marker = "ISKEYMARKER\(UUID().uuidString.prefix(8))"
            let cluster = try await HTTP.call(
                "POST",
                s.base + "/api/clusters",
                key: s.key,
                body:
                    #"{"name":"ssh-secret","connection_method":"ssh","ssh_host":"127.0.0.1","ssh_port":2322,"ssh_user":"root","ssh_key":"-----BEGIN OPENSSH PRIVATE KEY-----\n\#(marker)\n-----END OPENSSH PRIVATE KEY-----\n","ssh_host_key_fingerprint":"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}"#
            )
            #expect(cluster.status == 201, "\(cluster.json)")
            let clusterId = try #require(cluster.json["cluster_id"] as? Int)
            let deploy = try await HTTP.call(
                "POST",
                s.base + "/api/deploy",
                key: s.key,
                body: #"{"egg_id":"debian-hello","cluster_id":\#(clusterId),"instance_name":"secret-1","variables":{"greeting":"hi"}}"#
            )
            let id = try #require(deploy.json["deployment_id"] as? String, "\(deploy.json)")
            #expect(try await waitForStatus(s, id, "queued", within: .seconds(20)))

            let client = AMQPClient(configuration: .init(url: try AMQPURL(parsing: Self.url!), name: "gw-test-read"), logger: .init(label: "gw-test"))
            client.start()
            try await client.waitUntilConnected()
            var bodies: [String] = []
            for queue in [BusNames.renderQueue] + TargetType.allCases.map(\.deployQueue) {
                for name in [queue, queue + BusNames.deadLetterSuffix] {
                    guard let consumer = try? await client.consume(queue: name, prefetch: 500) else { continue }
                    let reader = Task {
                        var seen: [String] = []
                        for await d in consumer.deliveries { seen.append(String(decoding: d.body, as: UTF8.self)) }
                        return seen
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    client.cancel(consumer)
                    bodies += await reader.value
                }
            }
            await client.shutdown()  // unacked: the messages go back to their queues
            let job = bodies.first { $0.contains(id) }
            #expect(job?.contains("\"cluster_id\":\"\(clusterId)\"") == true, "the job names its cluster: \(job ?? "no job read back")")
            #expect(!bodies.contains { $0.contains(marker) || $0.contains("PRIVATE KEY") }, "a queued message carries the private key")
        }
    }

    /// `iceshelves ping` is a REST client: the gateway pings each service over the bus; the
    /// services that run here answer, and the deployers that do not make it exit 1.
    @Test func theCLIAsksTheGatewayWhichServicesAreUp() async throws {
        try await withStack(timeout: 600) { s in
            func cli(_ args: [String]) async throws -> (Int32, String) {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: SystemEnvironment.binDir! + "/iceshelves")
                p.arguments = args
                p.environment = ["ICESHELVES_URL": s.base, "ICESHELVES_API_KEY": s.key]
                let out = Pipe()
                p.standardOutput = out
                p.standardError = out
                try p.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                while p.isRunning { try await Task.sleep(for: .milliseconds(10)) }
                return (p.terminationStatus, String(decoding: data, as: UTF8.self))
            }
            let (ok, text) = try await cli(["ping", "api-gateway", "egg-catalog", "cloud-init-renderer"])
            #expect(ok == 0, "\(text)")
            #expect(text.contains("egg-catalog: up") && text.contains("api-gateway: up"), "\(text)")
            let (all, allText) = try await cli(["ping"])
            #expect(all == 1, "no deployer runs here: \(allText)")
            #expect(allText.contains("kvm-deployer: no answer"), "\(allText)")
            let (denied, deniedText) = try await cli(["ping", "--api-key", "isk_000000000000_nope"])
            #expect(denied != 0 && deniedText.contains("401"), "\(deniedText)")
        }
    }

    @Test func aDeploymentTimesOutAndTheSignedWebhookArrives() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        try await withStack(timeout: 3) { s in
            _ = try await HTTP.call("POST", s.base + "/api/clusters", key: s.key, body: #"{"name":"nobody-home","connection_method":"unix-socket"}"#)
            let hook = try await HTTP.call(
                "POST",
                s.base + "/api/webhooks",
                key: s.key,
                body: #"{"url":"\#(receiver.url)","events":["deployment.failed"]}"#
            )
            #expect(hook.status == 201)
            let secret = try #require(hook.json["secret"] as? String)
            let hookId = try #require(hook.json["id"] as? Int)
            let deploy = try await HTTP.call(
                "POST",
                s.base + "/api/deploy",
                key: s.key,
                body: #"{"egg_id":"debian-hello","cluster_id":1,"instance_name":"t-1"}"#
            )
            let id = try #require(deploy.json["deployment_id"] as? String)
            #expect(try await waitForStatus(s, id, "timeout", within: .seconds(20)), "DEPLOYMENT_TIMEOUT of 3 s")

            let received = try await receiver.waitForRequest(within: .seconds(20))
            #expect(received.headers["x-iceshelves-event"] == "deployment.failed")
            // The signature covers the timestamp and the body: t=<timestamp>,sha256=HMAC(secret, "<timestamp>.<body>").
            let timestamp = try #require(received.headers["x-iceshelves-timestamp"])
            #expect(abs((Int(timestamp) ?? 0) - Int(Date().timeIntervalSince1970)) < 120)
            let signature = HMAC<SHA256>.authenticationCode(
                for: Data("\(timestamp).\(received.body)".utf8),
                using: SymmetricKey(data: Data(secret.utf8))
            )
            .map { String(format: "%02x", $0) }.joined()
            #expect(received.headers["x-iceshelves-signature"] == "t=\(timestamp),sha256=\(signature)")
            #expect(received.body.contains(id))
            let deliveries = try await HTTP.call("GET", s.base + "/api/webhooks/\(hookId)/deliveries", key: s.key)
            let first = (deliveries.json["deliveries"] as? [[String: Any]])?.first
            #expect(first?["status"] as? String == "delivered")
        }
    }
}

/// A minimal HTTP client for the tests (curl), so SystemTests need no HTTP library.
enum HTTP {
    struct Reply: @unchecked Sendable {
        var status: Int
        var json: [String: Any]
    }

    static func call(_ method: String, _ url: String, key: String? = nil, body: String? = nil) async throws -> Reply {
        var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url, "-H", "Content-Type: application/json"]
        if let key { args += ["-H", "Authorization: Bearer \(key)"] }
        if let body { args += ["--data-binary", body] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let json = (try? JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8))) as? [String: Any] ?? [:]
        return Reply(status: status, json: json)
    }
}

/// A one-shot webhook receiver on 127.0.0.1 (python3's http.server), recording each POST.
final class WebhookReceiver: @unchecked Sendable {
    let url: String
    private let process: Process
    private let file: String

    struct Received {
        var headers: [String: String]
        var body: String
    }

    init() throws {
        let port = Int.random(in: 30000...39999)
        file = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString.prefix(8)).jsonl").path
        url = "http://127.0.0.1:\(port)/hook"
        let script = """
            import http.server, json, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    n = int(self.headers.get('Content-Length', 0))
                    body = self.rfile.read(n).decode()
                    with open(sys.argv[2], 'a') as f:
                        f.write(json.dumps({'headers': {k.lower(): v for k, v in self.headers.items()}, 'body': body}) + '\\n')
                    self.send_response(204); self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
            """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, String(port), file]
        // Never hold the test runner's output pipes: swift test waits for them to close.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func waitForRequest(within: Duration) async throws -> Received {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), let line = text.split(separator: "\n").first,
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            {
                return Received(headers: object["headers"] as? [String: String] ?? [:], body: object["body"] as? String ?? "")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CancellationError()
    }

    /// Every request received so far.
    func all() -> [Received] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Received(headers: object["headers"] as? [String: String] ?? [:], body: object["body"] as? String ?? "")
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: file)
    }
}
