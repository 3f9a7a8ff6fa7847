import Foundation
import IceShelvesBus
import Logging
import Synchronization

/// The integration switches `scripts/test` sets once RabbitMQ is up.
enum TestBroker {
    /// A broker that stays up for the whole run.
    static let url: AMQPURL? = ProcessInfo.processInfo.environment["ICESHELVES_TEST_AMQP_URL"].flatMap { try? AMQPURL(parsing: $0) }
    /// A broker that one test restarts, with the command that restarts it.
    static let restartURL: AMQPURL? = ProcessInfo.processInfo.environment["ICESHELVES_TEST_RESTART_AMQP_URL"].flatMap { try? AMQPURL(parsing: $0) }
    static let restartCommand: String? = ProcessInfo.processInfo.environment["ICESHELVES_TEST_RESTART_CMD"]
    /// `rabbitmqctl` of the broker at `restartURL`, to be followed by its arguments.
    static let restartCtl: String? = ProcessInfo.processInfo.environment["ICESHELVES_TEST_RESTART_CTL"]

    /// Runs `restartCommand` (the broker at `restartURL` restarts its app) and returns its exit
    /// status.
    static func restart() async throws -> Int32 { try await shell(restartCommand!) }

    /// Runs `restartCtl` with `arguments` (a shell word list); its exit status.
    static func ctl(_ arguments: String) async throws -> Int32 { try await shell("\(restartCtl!) -q \(arguments) >/dev/null") }

    /// Runs a shell command; its exit status. (Process.waitUntilExit spins a run loop, which must
    /// not run on the concurrency pool.)
    static func shell(_ command: String) async throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        while p.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return p.terminationStatus
    }

    static var available: Bool { url != nil }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }

    /// A started client; call `shutdown()` when done.
    static func client(_ name: String, url: AMQPURL? = nil) async throws -> AMQPClient {
        let client = AMQPClient(configuration: .init(url: url ?? self.url!, name: name, publishTimeout: .seconds(10)), logger: logger(name))
        client.start()
        try await client.waitUntilConnected()
        return client
    }

    /// A queue name no other test uses.
    static func queue(_ prefix: String) -> String { "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())" }

    /// Polls `condition` until it is true or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}

/// A value shared between test tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
