import Foundation
import ServiceLifecycle
import Synchronization

/// Wakes the long-polls of a cluster the moment a job for it arrives (or a lease runs out).
///
/// A waiter reads the cluster's generation *before* it looks in the store, then waits for a
/// generation past it: a job stored in between is never missed.
///
/// A waiting poll costs one continuation and one table entry: no task, no timer of its own.
/// ``run()`` ends the waits whose time is up, every ``tick``; on graceful shutdown it ends every
/// wait, and later waits return at once (``isClosed``), so held polls are answered right away.
final class JobSignal: Service, Sendable {
    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        let deadline: ContinuousClock.Instant
    }

    private struct State {
        var generation: [String: UInt64] = [:]
        var waiters: [String: [UInt64: Waiter]] = [:]
        var count = 0
        var nextId: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    /// How often timed-out waits are ended (the precision of a long-poll's hold).
    let tick: Duration

    init(tick: Duration = .milliseconds(100)) {
        self.tick = tick
    }

    /// The cluster's current generation; pass it to ``wait(cluster:after:for:)``.
    func generation(_ cluster: String) -> UInt64 {
        state.withLock { $0.generation[cluster] ?? 0 }
    }

    /// Something changed for `cluster`: every waiter wakes.
    func signal(_ cluster: String) {
        let woken = state.withLock { s -> [Waiter] in
            s.generation[cluster, default: 0] &+= 1
            let w = Array((s.waiters.removeValue(forKey: cluster) ?? [:]).values)
            s.count -= w.count
            return w
        }
        for w in woken { w.continuation.resume() }
    }

    /// Returns when the cluster's generation passes `seen`, after `timeout` (within a ``tick``),
    /// or when the task is cancelled.
    func wait(cluster: String, after seen: UInt64, for timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        let id = state.withLock { s -> UInt64 in
            s.nextId &+= 1
            return s.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if (s.generation[cluster] ?? 0) != seen || s.closed || Task.isCancelled || timeout <= .zero { return true }
                    s.waiters[cluster, default: [:]][id] = Waiter(continuation: c, deadline: deadline)
                    s.count += 1
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            release(cluster, id)
        }
    }

    /// Ends the waits whose time is up, every ``tick``, until shutdown; then ends every wait.
    func run() async {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !isClosed {
                expire()
                try? await Task.sleep(for: tick)
            }
        } onGracefulShutdown: {
            self.close()
        }
        close()
    }

    /// Ends every wait; later waits return at once.
    func close() {
        state.withLock { $0.closed = true }
        expire(at: .now + .seconds(86400 * 365))
    }

    /// `true` once shutting down.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Resumes the waiters whose deadline is before `now`.
    func expire(at now: ContinuousClock.Instant = .now) {
        let due = state.withLock { s -> [Waiter] in
            var late: [(String, UInt64)] = []
            for (cluster, waiters) in s.waiters {
                for (id, w) in waiters where w.deadline <= now { late.append((cluster, id)) }
            }
            var due: [Waiter] = []
            for (cluster, id) in late {
                if let w = s.waiters[cluster]?.removeValue(forKey: id) { due.append(w) }
                if s.waiters[cluster]?.isEmpty == true { s.waiters[cluster] = nil }
            }
            s.count -= due.count
            return due
        }
        for w in due { w.continuation.resume() }
    }

    private func release(_ cluster: String, _ id: UInt64) {
        let w = state.withLock { s -> Waiter? in
            let w = s.waiters[cluster]?.removeValue(forKey: id)
            if s.waiters[cluster]?.isEmpty == true { s.waiters[cluster] = nil }
            if w != nil { s.count -= 1 }
            return w
        }
        w?.continuation.resume()
    }

    /// Waiting long-polls, for metrics.
    var waiting: Int { state.withLock { $0.count } }
}
