import NIOCore
import Synchronization

/// `GET /deployments/{id}` answers for a couple of seconds, never older than what the ledger
/// has recorded. Every recorded event drops its deployment's answer and moves a generation
/// counter on; an answer is stored only if no event was recorded (anywhere) between the
/// moment its read began (``ticket()``) and its ``store(_:ticket:body:)``. A poller therefore
/// never sees a deployment go backwards, whatever the cache evicts.
final class DeploymentCache: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var answers: [String: (body: ByteBuffer, until: ContinuousClock.Instant)] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    private let ttl: Duration
    private let capacity: Int
    private let maxBytes: Int

    init(ttl: Duration = .seconds(2), capacity: Int = 1000, maxBytes: Int = 32 << 20) {
        self.ttl = ttl
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// The stored answer, while it is fresh.
    func body(_ id: String) -> ByteBuffer? {
        let now = ContinuousClock.now
        return state.withLock { s in
            guard let hit = s.answers[id] else { return nil }
            guard hit.until >= now else {
                s.bytes -= hit.body.readableBytes
                s.answers[id] = nil
                return nil
            }
            return hit.body
        }
    }

    /// Take one before reading the ledger; hand it to ``store(_:ticket:body:)``.
    func ticket() -> UInt64 { state.withLock { $0.generation } }

    /// Stores an answer, unless the ledger recorded an event since `ticket` was taken.
    func store(_ id: String, ticket: UInt64, body: ByteBuffer) {
        let until = ContinuousClock.now + ttl
        state.withLock { s in
            guard s.generation == ticket, body.readableBytes <= maxBytes / 16 else { return }
            if s.answers.count >= capacity || s.bytes + body.readableBytes > maxBytes {
                s.answers.removeAll(keepingCapacity: true)
                s.bytes = 0
            }
            if let old = s.answers[id] { s.bytes -= old.body.readableBytes }
            s.answers[id] = (body, until)
            s.bytes += body.readableBytes
        }
    }

    /// The ledger recorded an event of `id`: drop its answer and refuse answers read before now.
    func advance(_ id: String) {
        state.withLock { s in
            s.generation &+= 1
            if let old = s.answers.removeValue(forKey: id) { s.bytes -= old.body.readableBytes }
        }
    }

    /// Forgets everything (a cluster was deleted, with its finished deployments).
    func clear() {
        state.withLock { s in
            s.generation &+= 1
            s.answers.removeAll()
            s.bytes = 0
        }
    }
}
