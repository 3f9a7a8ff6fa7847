import Foundation
import Synchronization

/// Wakes the long-polls of a cluster the moment a job for it arrives (or a lease runs out).
///
/// A waiter reads the cluster's generation *before* it looks in the store, then waits for a
/// generation past it: a job stored in between is never missed.
final class JobSignal: Sendable {
    private struct State {
        var generation: [String: UInt64] = [:]
        var waiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    /// The cluster's current generation; pass it to ``wait(cluster:after:for:)``.
    func generation(_ cluster: String) -> UInt64 {
        state.withLock { $0.generation[cluster] ?? 0 }
    }

    /// Something changed for `cluster`: every waiter wakes.
    func signal(_ cluster: String) {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation[cluster, default: 0] &+= 1
            return Array((s.waiters.removeValue(forKey: cluster) ?? [:]).values)
        }
        for c in woken { c.resume() }
    }

    /// Returns when the cluster's generation passes `seen`, after `timeout`, or when the task is cancelled.
    func wait(cluster: String, after seen: UInt64, for timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { s -> Bool in
                            if (s.generation[cluster] ?? 0) != seen || Task.isCancelled { return true }
                            s.waiters[cluster, default: [:]][id] = c
                            return false
                        }
                        if resumeNow { c.resume() }
                    }
                } onCancel: {
                    self.release(cluster, id)
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func release(_ cluster: String, _ id: UUID) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            let c = s.waiters[cluster]?.removeValue(forKey: id)
            if s.waiters[cluster]?.isEmpty == true { s.waiters[cluster] = nil }
            return c
        }
        c?.resume()
    }

    /// Waiting long-polls, for metrics.
    var waiting: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }
}
