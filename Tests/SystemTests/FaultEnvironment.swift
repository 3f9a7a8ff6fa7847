import Foundation
import IceShelvesTestSupport
import Testing

/// What `scripts/test` sets up for the fault suite: a broker vhost of its own on the broker node
/// the suite may restart, the command that restarts that node, and its `rabbitmqctl`.
///
/// - `ICESHELVES_TEST_FAULTS=1` switches the suite on.
/// - `ICESHELVES_TEST_FAULTS_AMQP_URL`: the vhost (as `guest`; the services get their own users).
/// - `ICESHELVES_TEST_FAULTS_RESTART_CMD`: restarts that broker node (`rabbitmq-node restart-app`).
/// - `ICESHELVES_TEST_FAULTS_CTL`: `rabbitmqctl` of that node (`rabbitmq-node ctl`), followed by its arguments.
enum FaultEnvironment {
    static let env = ProcessInfo.processInfo.environment
    static let url = env["ICESHELVES_TEST_FAULTS_AMQP_URL"]
    static let restartCommand = env["ICESHELVES_TEST_FAULTS_RESTART_CMD"]
    static let ctl = env["ICESHELVES_TEST_FAULTS_CTL"]
    static var ready: Bool {
        env["ICESHELVES_TEST_FAULTS"] == "1" && url != nil && ctl != nil && SystemEnvironment.binDir != nil && TestLXD.unixSocket != nil
    }
    /// The repository, for `scripts/lxd-env`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The vhost of ``url``.
    static var vhost: String {
        guard let url, let slash = url.range(of: "/", options: .backwards), !url[slash.upperBound...].isEmpty else { return "/" }
        return String(url[slash.upperBound...]).removingPercentEncoding ?? "/"
    }

    /// One queue of the vhost as `rabbitmqctl list_queues` shows it.
    struct QueueDepth: CustomStringConvertible {
        var name: String
        var ready: Int
        var unacknowledged: Int
        var isDeadLetterQueue: Bool { name.hasSuffix(".dlq") }
        var description: String { "\(name) ready=\(ready) unacked=\(unacknowledged)" }
    }

    /// Every queue of the vhost with its ready and unacknowledged messages.
    static func queues() async throws -> [QueueDepth] {
        let out = try await shell(
            "\(ctl!) -q list_queues -p '\(vhost)' --no-table-headers name messages_ready messages_unacknowledged",
            timeout: .seconds(60)
        )
        try #require(out.status == 0, "rabbitmqctl list_queues failed: \(out.output)")
        return out.output.split(separator: "\n").compactMap { line in
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count == 3, let r = Int(f[1]), let u = Int(f[2]) else { return nil }
            return QueueDepth(name: String(f[0]), ready: r, unacknowledged: u)
        }
    }

    /// Restarts the suite's broker node (every connection drops; durable queues and their messages stay).
    static func restartBroker() async throws {
        let command = try #require(restartCommand, "ICESHELVES_TEST_FAULTS_RESTART_CMD is not set")
        let out = try await shell(command, timeout: .seconds(120))
        try #require(out.status == 0, "restarting the broker failed: \(out.output)")
    }

    /// Runs `scripts/lxd-env` with `arguments` (`stop-member node2`, `up`).
    static func lxdEnv(_ arguments: String, timeout: Duration = .seconds(300)) async throws -> (status: Int32, output: String) {
        try await shell("\(root)/scripts/lxd-env \(arguments)", timeout: timeout)
    }

    /// Runs a shell command with a time bound; its output and exit status (-1 when killed at the bound).
    /// The shell writes its status to a file: Foundation's `Process` was seen not to notice the
    /// exit of a `sh` (it stayed a zombie, `isRunning` true).
    static func shell(_ command: String, timeout: Duration) async throws -> (status: Int32, output: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("faults-sh-\(UUID().uuidString.prefix(8))").path
        defer { for f in [base + ".out", base + ".rc"] { try? FileManager.default.removeItem(atPath: f) } }
        let p = Process()
        // A child inherits the test process's blocked signals (seen: an `ssh` that lxd-env starts and
        // stops ignored SIGTERM, and `up` hung): python3 clears the mask before it runs the shell.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [
            "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv('/bin/sh', ['sh', '-c', sys.argv[1]])",
            "(\(command)) >'\(base).out' 2>&1 </dev/null; echo $? >'\(base).rc.tmp'; mv '\(base).rc.tmp' '\(base).rc'",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = ContinuousClock.now + timeout
        var status: Int32?
        while status == nil, ContinuousClock.now < deadline {
            status = (try? String(contentsOfFile: base + ".rc", encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if status == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        if status == nil { kill(p.processIdentifier, SIGKILL) }
        let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        return (status ?? -1, output)
    }
}
