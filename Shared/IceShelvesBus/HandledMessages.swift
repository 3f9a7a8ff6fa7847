import Synchronization

/// What one ``QueueWorker`` is handling and has recently handled, so that a message the broker
/// hands out again after a lost connection is not handled twice in the same process.
///
/// When the connection drops while a handler runs, the broker requeues the unacked message and,
/// once the worker has reconnected, delivers it again (`redelivered`), while the first handler
/// still works on it. Its ack later goes to the dead connection and is dropped. Without this
/// book the copy would start a second handler for the same job alongside the first.
///
/// A copy is recognised by its message id and attempt count, by the broker's `redelivered` flag,
/// and by arriving on a newer connection than the handling that settled it. It waits for that
/// handling to end, then is acked without being handled again. A message the worker republished
/// for a retry has a higher attempt count, so it is never taken for a copy.
final class HandledMessages: Sendable {
    /// A message's identity across deliveries.
    struct Key: Hashable, Sendable {
        let messageId: String
        let attempts: Int
    }

    /// What ``admit(_:generation:redelivered:)`` decides.
    enum Admission: Equatable, Sendable {
        /// Handle it; call ``finish(_:generation:settled:)`` afterwards.
        case handle
        /// A copy of a message this process already settled: ack it and do nothing else.
        case alreadySettled
    }

    private struct Book: ~Copyable {
        /// Messages being handled, with the connection generation that delivered them.
        var running: [Key: UInt64] = [:]
        /// Who waits for a running message to end.
        var waiters: [Key: [CheckedContinuation<Void, Never>]] = [:]
        /// Recently settled messages, with the generation whose ack settled them.
        var settled: [Key: UInt64] = [:]
        /// The same keys in the order they were settled, a ring: the oldest is forgotten first.
        var order: [Key?]
        var next = 0
    }

    private let book: Mutex<Book>

    /// - Parameter memory: how many settled messages are remembered.
    init(memory: Int = 4096) { book = Mutex(Book(order: Array(repeating: nil, count: max(1, memory)))) }

    /// Waits while the same message is being handled, then says whether to handle this delivery.
    func admit(_ key: Key, generation: UInt64, redelivered: Bool) async -> Admission {
        while true {
            let decision: Admission? = book.withLock { book in
                if book.running[key] != nil { return nil }
                if redelivered, let settledOn = book.settled[key], settledOn < generation { return .alreadySettled }
                book.running[key] = generation
                return .handle
            }
            if let decision { return decision }
            await withCheckedContinuation { continuation in
                let stillRunning = book.withLock { book in
                    guard book.running[key] != nil else { return false }
                    book.waiters[key, default: []].append(continuation)
                    return true
                }
                if !stillRunning { continuation.resume() }
            }
        }
    }

    /// Ends the handling of `key`. `settled` is false when the message went back to the queue
    /// as it was (a shutdown), so a copy of it must be handled.
    func finish(_ key: Key, generation: UInt64, settled: Bool) {
        let waiters = book.withLock { book in
            book.running[key] = nil
            if settled, book.settled.updateValue(generation, forKey: key) == nil {
                if let forgotten = book.order[book.next] { book.settled[forgotten] = nil }
                book.order[book.next] = key
                book.next = (book.next + 1) % book.order.count
            }
            return book.waiters.removeValue(forKey: key) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }
}
