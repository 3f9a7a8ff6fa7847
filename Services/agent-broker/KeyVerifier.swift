import Crypto
import Foundation
import IceShelvesContracts
import Logging
import Synchronization

/// Checks `X-Agent-Key` against the hashes the gateway holds, cached.
///
/// The table is fetched at most every `refresh` (and again, at most every `minRefetch`, when a key
/// is not found: a cluster registered a moment ago). A key is SHA-256-hashed and compared with
/// each hash of its cluster in constant time; a key is valid only for its own cluster.
final class KeyVerifier: Sendable {
    private struct Cache {
        var byCluster: [String: AgentKeys.Cluster] = [:]
        var fetchedAt: ContinuousClock.Instant?
        var fetching: Task<AgentKeys, any Error>?
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
        if let c = await cluster(clusterId, maxAge: refresh), Self.matches(digest, c.keyHashes) { return c }
        // Not found, or not this key: the key may be new. Look again, but not more often than minRefetch.
        if let c = await cluster(clusterId, maxAge: minRefetch), Self.matches(digest, c.keyHashes) { return c }
        return nil
    }

    /// `true` when the key is valid for some cluster (every cluster compared, in constant time each).
    func verifyAny(key: String?) async -> Bool {
        guard let key, !key.isEmpty, key.utf8.count <= 512 else { return false }
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        _ = await cluster("", maxAge: refresh)
        let all = cache.withLock { Array($0.byCluster.values) }
        var found = false
        for c in all where Self.matches(digest, c.keyHashes) { found = true }
        return found
    }

    /// The cluster's entry (poll interval) when known.
    func known(_ clusterId: String) -> AgentKeys.Cluster? {
        cache.withLock { $0.byCluster[clusterId] }
    }

    private func cluster(_ id: String, maxAge: Duration) async -> AgentKeys.Cluster? {
        let task = cache.withLock { c -> Task<AgentKeys, any Error>? in
            if let at = c.fetchedAt, ContinuousClock.now - at < maxAge { return nil }
            if let running = c.fetching { return running }
            let source = source
            let t = Task { try await source.agentKeys() }
            c.fetching = t
            return t
        }
        if let task {
            do {
                let keys = try await task.value
                cache.withLock { c in
                    c.byCluster = Dictionary(keys.clusters.map { ($0.clusterId, $0) }, uniquingKeysWith: { a, _ in a })
                    c.fetchedAt = .now
                    c.fetching = nil
                }
            } catch {
                logger.warning("cannot fetch the agent key hashes from the gateway; using the cached ones", metadata: ["error": "\(error)"])
                cache.withLock { c in
                    c.fetching = nil
                    c.fetchedAt = c.fetchedAt ?? .now  // do not hammer a gateway that is down
                }
            }
        }
        return cache.withLock { $0.byCluster[id] }
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
