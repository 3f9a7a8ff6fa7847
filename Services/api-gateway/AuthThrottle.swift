import Synchronization

/// Repeated authentication failures from one address: after `limit` failures within a minute,
/// that address gets 429 for a minute (a key it used successfully a moment ago still works).
final class AuthThrottle: Sendable {
    let limit: Int
    private let entries = Mutex<[String: Entry]>([:])

    struct Entry {
        var failures: Int
        var windowStart: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
    }

    /// - Parameter limit: failures per minute before the block; 0 turns the throttle off.
    init(limit: Int) { self.limit = limit }

    func isBlocked(_ address: String) -> Bool {
        guard limit > 0 else { return false }
        let now = ContinuousClock.now
        return entries.withLock { $0[address]?.blockedUntil.map { now < $0 } ?? false }
    }

    func failed(_ address: String) {
        guard limit > 0 else { return }
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count > 50_000 { entries = entries.filter { $0.value.blockedUntil.map { now < $0 } ?? false } }
            var e = entries[address] ?? Entry(failures: 0, windowStart: now, blockedUntil: nil)
            if now - e.windowStart > .seconds(60) { e = Entry(failures: 0, windowStart: now, blockedUntil: nil) }
            e.failures += 1
            if e.failures >= limit { e.blockedUntil = now + .seconds(60) }
            entries[address] = e
        }
    }
}
