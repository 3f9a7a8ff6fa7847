import Foundation
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// The real `iceshelves` binary against a running stack (catalog, renderer, deployer, gateway)
/// and real LXD: the Quick Start from a terminal, with its output piped as a script would.
@Suite(
    "iceshelves CLI (real gateway, RabbitMQ, LXD)",
    .serialized,
    .enabled(if: LXDStack.ready && TestLXD.unixSocket != nil, "run scripts/lxd-env up and set ICESHELVES_TEST_LXD_AMQP_URL (scripts/test does)")
)
struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `iceshelves` with its output piped (not a terminal).
    static func cli(_ arguments: [String], env: [String: String]) async throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SystemEnvironment.binDir!).appendingPathComponent("iceshelves")
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        async let o = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let e = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let (stdout, stderr) = await (o, e)
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return Run(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func hasControlCharacters(_ s: String) -> Bool {
        s.unicodeScalars.contains { ($0.value < 32 && $0 != "\n") || $0.value == 0x7f }
    }

    @Test func theQuickStartFromATerminal() async throws {
        let socket = try #require(TestLXD.unixSocket).socketPath
        let stack = try await LXDStack(gatewayStandIn: false)
        let gateway = try await GatewayProcess(amqpURL: LXDStack.url!)
        defer { gateway.stop() }
        var env: [String: String] = [:]
        var deployed: String?
        do {
            try await stack.startDeployer()
            let config = gateway.data + "/cli-config.json"
            env = ["ICESHELVES_URL": gateway.base, "ICESHELVES_CONFIG": config, "ICESHELVES_API_KEY": ""]

            // login saves the URL and key, owner-only; later commands need no flags.
            let login = try await Self.cli(["login", "--api-key", gateway.key], env: env)
            #expect(login.status == 0, "\(login.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: config)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
            env["ICESHELVES_URL"] = ""

            let add = try await Self.cli(["cluster", "add", "local", "--method", "unix-socket", "--socket-path", socket], env: env)
            #expect(add.status == 0, "\(add.stderr)")
            let test = try await Self.cli(["cluster", "test", "local", "--format", "json"], env: env)
            #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
            let tested = (try? JSONSerialization.jsonObject(with: Data(test.stdout.utf8))) as? [String: Any]
            #expect(tested?["status"] as? String == "active", "\(test.stdout) \(test.stderr)")

            let eggs = try await Self.cli(["egg", "list", "--format", "json", "-c", "name,version"], env: env)
            let list = try #require(
                (try? JSONSerialization.jsonObject(with: Data(eggs.stdout.utf8))) as? [[String: Any]],
                "\(eggs.stdout) \(eggs.stderr)"
            )
            #expect(list.contains { $0["name"] as? String == "debian-hello" })
            #expect(list.allSatisfy { Set($0.keys) == ["name", "version"] })
            let csv = try await Self.cli(["egg", "list", "--format", "csv", "-c", "name"], env: env)
            #expect(csv.stdout.hasPrefix("name\r\n"))

            // deploy --wait, piped: plain lines, exit 0.
            let name = "issue-13-cli-\(UUID().uuidString.prefix(6).lowercased())"
            let deploy = try await Self.cli(
                [
                    "deploy", "debian-hello", "--cluster", "local", "--name", name, "--var", "greeting=hello from the CLI", "--wait", "--timeout",
                    "5m",
                ],
                env: env
            )
            #expect(deploy.status == 0, "\(deploy.stdout)\n\(deploy.stderr)")
            #expect(!Self.hasControlCharacters(deploy.stdout), "piped output has control characters: \(deploy.stdout.debugDescription)")
            #expect(deploy.stdout.contains(" completed done "), "\(deploy.stdout)")
            let id = try #require(deploy.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
            deployed = id

            let show = try await Self.cli(["deployment", "show", id, "--format", "json"], env: env)
            let shown = (try? JSONSerialization.jsonObject(with: Data(show.stdout.utf8))) as? [String: Any]
            #expect(shown?["status"] as? String == "completed", "\(deploy.stdout) \(show.stdout) \(show.stderr)")
            let yaml = try await Self.cli(["deployment", "list", "--format", "yaml", "-c", "id,status"], env: env)
            #expect(yaml.stdout.contains(id), "\(yaml.stdout)")
            let logs = try await Self.cli(["deployment", "logs", id], env: env)
            #expect(logs.status == 0 && logs.stdout.contains("cloud-init"), "\(logs.stdout) \(logs.stderr)")
            let follow = try await Self.cli(["deployment", "follow", id], env: env)
            #expect(follow.status == 0 && follow.stdout.contains("#1 pending request"), "a finished deployment replays: \(follow.stdout)")

            // The egg took effect inside the container.
            let lxd = try await LXDConnector(timeout: .seconds(10), logger: Logger(label: "cli-test")).connect(try #require(TestLXD.unixSocket))
            defer { lxd.close() }
            let greeting = String(decoding: try await lxd.file(name, path: "/etc/iceshelves/hello.txt"), as: UTF8.self)
            #expect(greeting == "hello from the CLI")
            let cleanup = try await Self.cli(["deployment", "cleanup", id], env: env)
            #expect(cleanup.status == 0, "\(cleanup.stderr)")

            // A failing deployment exits non-zero with one readable line.
            let bad = try await Self.cli(
                [
                    "deploy", "debian-hello", "--cluster", "local", "--name", name + "-bad", "--image", "iceshelves/no-such-image", "--wait",
                    "--timeout", "3m",
                ],
                env: env
            )
            #expect(bad.status == 1, "\(bad.stdout)\n\(bad.stderr)")
            #expect(bad.stderr.contains("failed"), "\(bad.stderr)")

            // Errors are one line with the API's message.
            let missing = try await Self.cli(["egg", "show", "no-such-egg"], env: env)
            #expect(missing.status != 0)
            #expect(missing.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(missing.stderr)")
            #expect(missing.stderr.contains("404"), "\(missing.stderr)")
            let badKey = try await Self.cli(["egg", "list", "--api-key", "isk_bad_key"], env: env)
            #expect(badKey.status != 0 && badKey.stderr.contains("401"), "\(badKey.stderr)")

            let completion = try await Self.cli(["--generate-completion-script", "bash"], env: env)
            #expect(completion.status == 0 && completion.stdout.contains("deployment"))
        } catch {
            if let deployed { _ = try? await Self.cli(["deployment", "cleanup", deployed], env: env) }  // leave nothing behind
            await stack.stop()
            throw error
        }
        await stack.stop()
    }
}
