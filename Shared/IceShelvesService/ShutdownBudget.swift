import Foundation
import Logging
import ServiceLifecycle

/// Bounds a graceful shutdown: the process ends within `budget` of SIGTERM or SIGINT.
///
/// - Until ``drainTime`` (the budget less 5 s, or less half of it when it is shorter than
///   10 s) in-flight work may finish; ``ServiceRunner`` then has the `ServiceGroup` cancel the
///   services, and a ``QueueWorker`` requeues the messages whose handlers gave up.
/// - At the budget, work that ignored the cancellation (a blocking call, a loop that does not
///   check) no longer holds the process: it exits with status 1. Nothing is lost: a message
///   that was not acked goes back to its queue when the broker sees the connection close,
///   and the next consumer takes it (handlers are idempotent per deployment id).
public struct ShutdownBudget: Service {
    let budget: Duration
    let logger: Logger

    public init(budget: Duration, logger: Logger) {
        self.budget = budget
        self.logger = logger
    }

    /// How long in-flight work may run before the services are cancelled.
    public var drainTime: Duration { budget - min(.seconds(5), budget / 2) }

    /// Waits for the graceful shutdown, starts the clock and returns.
    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is ending already
        }
        logger.info("shutting down", metadata: ["budget_seconds": "\(budget.components.seconds)"])
        let seconds = Double(budget.components.seconds) + Double(budget.components.attoseconds) / 1e18
        let logger = logger
        // A thread of its own, not a task: it must fire even when every task is stuck, and it
        // never touches Swift concurrency. Returning from main ends the process, and it with it.
        let watchdog = Thread {
            Thread.sleep(forTimeInterval: seconds)
            logger.error(
                "shutdown budget exceeded; exiting now. Unacked in-flight messages go back to their queues",
                metadata: ["budget_seconds": "\(Int(seconds))"]
            )
            exit(1)
        }
        watchdog.name = "shutdown-budget"
        watchdog.start()
    }
}
