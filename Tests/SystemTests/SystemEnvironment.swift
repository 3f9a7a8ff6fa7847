import Foundation
import IceShelvesBus

/// Where `scripts/test` put the broker and the built executables.
enum SystemEnvironment {
    static let url: AMQPURL? = ProcessInfo.processInfo.environment["ICESHELVES_TEST_AMQP_URL"].flatMap { try? AMQPURL(parsing: $0) }
    static let binDir: String? = ProcessInfo.processInfo.environment["ICESHELVES_BIN_DIR"]
    static var ready: Bool { url != nil && binDir != nil }
    /// A vhost of its own for the gateway tests (no deployer consumes there).
    static let gatewayURL = ProcessInfo.processInfo.environment["ICESHELVES_TEST_GW_AMQP_URL"]

    /// A vhost of its own for the poison-job suite: its job queues get that suite's low delivery limit.
    static let deadLetterURL = ProcessInfo.processInfo.environment["ICESHELVES_TEST_DLQ_AMQP_URL"]

    /// The folder of the services' broker passwords, when `scripts/test` made a user per service.
    static let brokerUsers = ProcessInfo.processInfo.environment["ICESHELVES_TEST_BROKER_USERS"]

    /// `url` with the service's own broker user and password instead of the test's, when
    /// `scripts/test` created them (`scripts/broker-users`); the test itself stays `guest`.
    /// A comma-separated list (a cluster's nodes) gets them in every URL.
    static func serviceURL(_ service: String, _ url: String?) -> String? {
        guard let url, url.contains(",") else { return serviceURL(service, one: url) }
        return url.split(separator: ",").map { serviceURL(service, one: String($0)) ?? String($0) }.joined(separator: ",")
    }

    private static func serviceURL(_ service: String, one url: String?) -> String? {
        guard let url, let dir = brokerUsers,
            let password = try? String(contentsOfFile: dir + "/\(service).password", encoding: .utf8),
            let scheme = url.range(of: "://"), let at = url.range(of: "@", range: scheme.upperBound..<url.endIndex)
        else { return url }
        return url.replacingCharacters(
            in: scheme.upperBound..<at.lowerBound,
            with: "\(service):\(password.trimmingCharacters(in: .whitespacesAndNewlines))"
        )
    }

    /// Starts a built executable with the test broker's URL in its environment.
    static func launch(
        _ name: String,
        arguments: [String],
        url: String? = nil,
        stdout: Pipe? = nil,
        stderr: Pipe? = nil,
        output: FileHandle? = nil,
        extraEnvironment: [String: String] = [:]
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binDir!).appendingPathComponent(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["ICESHELVES_AMQP_URL"] = serviceURL(name, url ?? ProcessInfo.processInfo.environment["ICESHELVES_TEST_AMQP_URL"])
        env["ICESHELVES_LOG_LEVEL"] = "warning"
        // Tests publish jobs themselves as `guest`, standing in for the gateway or the renderer;
        // a test of the publisher check sets the services' real defaults in `extraEnvironment`.
        env["ICESHELVES_JOB_PUBLISHERS"] = "api-gateway,cloud-init-renderer,guest"
        env.merge(extraEnvironment) { _, new in new }
        process.environment = env
        process.standardOutput = stdout ?? output ?? FileHandle.nullDevice
        process.standardError = stderr ?? output ?? FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A folder of its own for one stack's service logs, under `ICESHELVES_TEST_SERVICE_LOGS`
    /// (scripts/test sets it in its results folder); `nil` when that is unset (output discarded).
    static func serviceLogFolder(_ prefix: String) -> String? {
        ProcessInfo.processInfo.environment["ICESHELVES_TEST_SERVICE_LOGS"].map { $0 + "/\(prefix)-\(UUID().uuidString.prefix(8))" }
    }

    /// `<folder>/<name>.log`, opened for appending (a restarted service goes on in the same file);
    /// close it once the process is launched.
    static func serviceLog(_ folder: String?, _ name: String) -> FileHandle? {
        guard let folder else { return nil }
        let path = folder + "/\(name).log"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
        return handle
    }

    /// Runs `body`, then `finally`, also when `body` throws (an async `defer`).
    static func run(_ body: () async throws -> Void, finally: () async -> Void) async throws {
        do {
            try await body()
        } catch {
            await finally()
            throw error
        }
        await finally()
    }

    /// Waits for a process to end; `false` on timeout.
    static func waitForExit(_ process: Process, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
        return true
    }
}
