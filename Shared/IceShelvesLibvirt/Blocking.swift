import Dispatch
import Synchronization

/// Runs libvirt's blocking calls on threads of their own, never on Swift's cooperative pool.
enum Blocking {
    private static let queue = DispatchQueue(label: "iceshelves.libvirt", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Like ``run(_:)``, but gives up after `timeout` with `timeoutError`; a late result is dropped.
    static func run<T: Sendable>(
        timeout: Duration,
        timeoutError: some Error & Sendable,
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let finished = Mutex(false)
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let result = Result { try body() }
                let first = finished.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(with: result) }
            }
            let (s, a) = timeout.components
            let nanos = Int(s) * 1_000_000_000 + Int(a / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanos)) {
                let first = finished.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(throwing: timeoutError) }
            }
        }
    }
}
