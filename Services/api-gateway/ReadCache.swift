import Synchronization

/// A small time-limited cache for hot reads (egg lists and eggs, verified keys). Entries live
/// for `ttl`; writers through the gateway clear it, and a change made elsewhere shows within `ttl`
/// (plus one reload). When an entry expires under load, one caller reloads it while the others
/// keep getting the expired value, instead of every caller asking the catalogue at once.
final class ReadCache<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var until: ContinuousClock.Instant
        var reloading = false
    }

    private enum Plan {
        case hit(Value)
        case reload
        case load
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let ttl: Duration
    private let capacity: Int

    init(ttl: Duration, capacity: Int = 1000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The value while it is fresh.
    func value(_ key: String) -> Value? {
        let now = ContinuousClock.now
        return entries.withLock { e in
            guard let hit = e[key] else { return nil }
            if hit.until < now {
                if !hit.reloading { e[key] = nil }
                return nil
            }
            return hit.value
        }
    }

    func store(_ key: String, _ value: Value) {
        let until = ContinuousClock.now + ttl
        entries.withLock { e in
            if e.count >= capacity { e.removeAll(keepingCapacity: true) }
            e[key] = Entry(value: value, until: until)
        }
    }

    func clear() { entries.withLock { $0.removeAll() } }

    /// The cached value, or `load()`'s, stored. While one caller reloads an expired entry, the
    /// others get the expired value.
    func get(_ key: String, load: () async throws -> Value) async throws -> Value {
        let now = ContinuousClock.now
        let plan: Plan = entries.withLock { e in
            guard var entry = e[key] else { return .load }
            if entry.until >= now || entry.reloading { return .hit(entry.value) }
            entry.reloading = true
            e[key] = entry
            return .reload
        }
        switch plan {
        case .hit(let value):
            return value
        case .load, .reload:
            do {
                let value = try await load()
                store(key, value)
                return value
            } catch {
                entries.withLock { e in if e[key]?.reloading == true { e[key] = nil } }
                throw error
            }
        }
    }
}
