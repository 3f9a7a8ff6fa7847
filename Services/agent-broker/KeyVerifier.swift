import Crypto
import Foundation
import IceShelvesContracts
import Logging
import Synchronization

/// Checks `X-Agent-Key` against the hashes the gateway holds, cached.
///
/// The table is fetched again once it is older than `refresh`: the poll that notices starts the
/// fetch and, like every other poll meanwhile, is answered from the table it has (a fetch of
/// thousands of clusters never holds up a poll). A key that is not found makes its poll wait for
/// a fresh table, at most every `minRefetch` (a cluster registered, or a key rotated, a moment ago);
/// a revoked key stops working within `refresh` plus one fetch. A failed fetch is tried again
/// after `minRefetch`. A key is SHA-256-hashed and compared with each hash of its cluster in
/// constant time; a key is valid only for its own cluster.
final class KeyVerifier: Sendable {
    private struct Cache {
        var byCluster: [String: AgentKeys.Cluster] = [:]
        var fetchedAt: ContinuousClock.Instant?
        var fetching: Task<Void, Never>?
        /// No new fetch before this (after a failed one).
        var retryAfter: ContinuousClock.Instant?
    }

    private let source: any AgentKeySource
    private let refresh: Duration
    private let minRefetch: Duration
    private let logger: Logger
    private let cache = Mutex(Cache())

    init(source: any AgentKeySource, refresh: Duration = .seconds(30), minRefetch: Duration = .seconds(2), logger: Logger) {
        self.source = source
        self.refresh = refresh
        self.minRefetch = minRefetch
        self.logger = logger
    }

    /// The cluster the key belongs to, when it is `clusterId`'s key; else `nil`.
    func verify(key: String?, clusterId: String) async -> AgentKeys.Cluster? {
        guard let key, !key.isEmpty, key.utf8.count <= 512 else { return nil }
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        if let c = await cluster(clusterId, maxAge: refresh, waitForFresh: false), Self.matches(digest, c.keyHashes) { return c }
        // Not found, or not this key: the key may be new. Look again, but not more often than minRefetch.
        if let c = await cluster(clusterId, maxAge: minRefetch, waitForFresh: true), Self.matches(digest, c.keyHashes) { return c }
        return nil
    }

    /// `true` when the key is valid for some cluster (every cluster compared, in constant time each).
    func verifyAny(key: String?) async -> Bool {
        guard let key, !key.isEmpty, key.utf8.count <= 512 else { return false }
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        _ = await cluster("", maxAge: refresh, waitForFresh: false)
        let all = cache.withLock { Array($0.byCluster.values) }
        var found = false
        for c in all where Self.matches(digest, c.keyHashes) { found = true }
        return found
    }

    /// The cluster's entry (poll interval) when known.
    func known(_ clusterId: String) -> AgentKeys.Cluster? {
        cache.withLock { $0.byCluster[clusterId] }
    }

    /// The cached entry; a table older than `maxAge` is fetched again. The caller waits for that
    /// fetch only when there is no table yet or `waitForFresh`.
    private func cluster(_ id: String, maxAge: Duration, waitForFresh: Bool) async -> AgentKeys.Cluster? {
        let now = ContinuousClock.now
        let pending = cache.withLock { c -> Task<Void, Never>? in
            if let at = c.fetchedAt, now - at < maxAge { return nil }
            if let running = c.fetching { return c.fetchedAt == nil || waitForFresh ? running : nil }
            if let after = c.retryAfter, now < after, c.fetchedAt != nil { return nil }
            let t = Task { await self.fetch() }
            c.fetching = t
            return c.fetchedAt == nil || waitForFresh ? t : nil
        }
        await pending?.value
        return cache.withLock { $0.byCluster[id] }
    }

    private func fetch() async {
        do {
            let keys = try await source.agentKeys()
            let table = Dictionary(keys.clusters.map { ($0.clusterId, $0) }, uniquingKeysWith: { a, _ in a })
            cache.withLock { c in
                c.byCluster = table
                c.fetchedAt = .now
                c.fetching = nil
                c.retryAfter = nil
            }
        } catch {
            logger.warning("cannot fetch the agent key hashes from the gateway; using the cached ones", metadata: ["error": "\(error)"])
            cache.withLock { c in
                c.fetching = nil
                c.retryAfter = .now + minRefetch  // do not hammer a gateway that is down
                c.fetchedAt = c.fetchedAt ?? .now - refresh + minRefetch  // no table yet: the next poll asks again after minRefetch
            }
        }
    }

    /// Constant-time comparison of the key's digest with each stored hex hash.
    static func matches(_ digest: [UInt8], _ hashes: [String]) -> Bool {
        var found = false
        for hex in hashes {
            guard let stored = bytes(hex), stored.count == digest.count else { continue }
            var diff: UInt8 = 0
            for i in 0..<digest.count { diff |= digest[i] ^ stored[i] }
            if diff == 0 { found = true }
        }
        return found
    }

    private static func bytes(_ hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
