import Synchronization

/// A small time-limited cache for hot reads (egg lists and eggs, verified keys). Entries live
/// for `ttl`; writers through the gateway clear it, and a change made elsewhere shows within `ttl`.
final class ReadCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: (value: Value, until: ContinuousClock.Instant)]>([:])
    private let ttl: Duration
    private let capacity: Int

    init(ttl: Duration, capacity: Int = 1000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func value(_ key: String) -> Value? {
        let now = ContinuousClock.now
        return entries.withLock { e in
            guard let hit = e[key] else { return nil }
            if hit.until < now {
                e[key] = nil
                return nil
            }
            return hit.value
        }
    }

    func store(_ key: String, _ value: Value) {
        let until = ContinuousClock.now + ttl
        entries.withLock { e in
            if e.count >= capacity { e.removeAll(keepingCapacity: true) }
            e[key] = (value, until)
        }
    }

    func clear() { entries.withLock { $0.removeAll() } }

    /// The cached value, or `load()`'s, stored.
    func get(_ key: String, load: () async throws -> Value) async throws -> Value {
        if let v = value(key) { return v }
        let v = try await load()
        store(key, v)
        return v
    }
}
