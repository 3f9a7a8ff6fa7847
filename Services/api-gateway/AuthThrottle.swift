import Crypto
import Foundation
import Synchronization

/// Repeated authentication failures from one address: after `limit` failures within a minute,
/// that address gets 429 for a minute, except for a key it used successfully before (a
/// legitimate client behind the same address as a guesser keeps working).
final class AuthThrottle: Sendable {
    let limit: Int
    private let entries = Mutex<[String: Entry]>([:])

    struct Entry {
        var failures: Int
        var windowStart: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
        /// Digests of keys that authenticated from this address (at most 16 kept).
        var goodKeys: Set<Data> = []
    }

    /// - Parameter limit: failures per minute before the block; 0 turns the throttle off.
    init(limit: Int) { self.limit = limit }

    /// Whether a request from `address` with `presented` (if any) is refused without a check.
    func refuses(_ address: String, presented: String?) -> Bool {
        guard limit > 0 else { return false }
        let now = ContinuousClock.now
        let digest = presented.map(Self.digest)
        return entries.withLock { entries in
            guard let e = entries[address], let until = e.blockedUntil, now < until else { return false }
            return digest.map { !e.goodKeys.contains($0) } ?? true
        }
    }

    func succeeded(_ address: String, presented: String) {
        guard limit > 0 else { return }
        let digest = Self.digest(presented)
        let now = ContinuousClock.now
        entries.withLock { entries in
            var e = entries[address] ?? Entry(failures: 0, windowStart: now, blockedUntil: nil)
            guard !e.goodKeys.contains(digest), e.goodKeys.count < 16 else { return }
            if entries.count > 50_000 { entries = entries.filter { $0.value.blockedUntil.map { now < $0 } ?? false } }
            e.goodKeys.insert(digest)
            entries[address] = e
        }
    }

    func failed(_ address: String) {
        guard limit > 0 else { return }
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count > 50_000 { entries = entries.filter { $0.value.blockedUntil.map { now < $0 } ?? false } }
            var e = entries[address] ?? Entry(failures: 0, windowStart: now, blockedUntil: nil)
            if now - e.windowStart > .seconds(60) && e.blockedUntil.map({ now >= $0 }) ?? true {
                e = Entry(failures: 0, windowStart: now, blockedUntil: nil, goodKeys: e.goodKeys)
            }
            e.failures += 1
            if e.failures >= limit { e.blockedUntil = now + .seconds(60) }
            entries[address] = e
        }
    }

    private static func digest(_ key: String) -> Data { Data(SHA256.hash(data: Data(key.utf8))) }
}
