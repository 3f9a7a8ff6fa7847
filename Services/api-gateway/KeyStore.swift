import Crypto
import Foundation
import GRDB
import Synchronization

/// API keys: `isk_<id>_<secret>`, the secret 256 random bits. Only the SHA-256 of the secret is
/// stored; a presented key is looked up by its id and its hash compared in constant time.
struct KeyStore: Sendable {
    let db: GatewayDatabase
    /// Verified keys for a few seconds (a revoke clears it at once).
    private let verified = ReadCache<Identity>(ttl: .seconds(5))
    private let state = KeyState()

    init(db: GatewayDatabase) { self.db = db }

    /// Memory shared by the copies of this store: revoked ids (so that open event streams end),
    /// and when each key's `last_used_at` was last written (at most once a minute).
    final class KeyState: Sendable {
        let revoked = Mutex<Set<String>>([])
        let lastWritten = Mutex<[String: ContinuousClock.Instant]>([:])
    }

    /// Whether a key was revoked while this gateway runs (checked by open event streams).
    func isRevoked(_ id: String) -> Bool { state.revoked.withLock { $0.contains(id) } }

    /// Writes `last_used_at`, at most once a minute per key, without holding up the request.
    private func touch(_ id: String) {
        let now = ContinuousClock.now
        let due = state.lastWritten.withLock { written -> Bool in
            if let last = written[id], now - last < .seconds(60) { return false }
            if written.count > 10_000 { written.removeAll() }
            written[id] = now
            return true
        }
        guard due else { return }
        let db = db
        Task {
            try? await db.writer.write { db in
                try db.execute(sql: "UPDATE api_key SET last_used_at = ? WHERE id = ?", arguments: [Timestamp.now(), id])
            }
        }
    }

    struct Created: Sendable {
        var id: String
        var key: String
    }

    func create(name: String, role: Role, by creator: String?) async throws -> Created {
        let id = Self.hex(Self.random(6))
        let secret = Self.base64url(Self.random(32))
        let hash = Data(SHA256.hash(data: Data(secret.utf8)))
        try await db.writer.write { db in
            try db.execute(
                sql: "INSERT INTO api_key (id, name, role, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, name, role.rawValue, hash, Timestamp.now(), creator]
            )
        }
        return Created(id: id, key: "isk_\(id)_\(secret)")
    }

    /// The identity behind a presented key, or `nil`.
    func verify(_ presented: String) async throws -> Identity? {
        if let hit = verified.value(presented) {
            touch(hit.keyId)
            return hit
        }
        guard let identity = try await lookUp(presented) else { return nil }
        verified.store(presented, identity)
        touch(identity.keyId)
        return identity
    }

    private func lookUp(_ presented: String) async throws -> Identity? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "isk", parts[1].count == 12, parts[1].allSatisfy(\.isHexDigit), !parts[2].isEmpty,
            parts[2].utf8.count <= 128
        else {
            return nil
        }
        let id = String(parts[1])
        let hash = Array(SHA256.hash(data: Data(parts[2].utf8)))
        let found: (name: String, role: String, hash: Data)? = try await db.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT name, role, secret_hash FROM api_key WHERE id = ? AND revoked_at IS NULL", arguments: [id])
                .map { ($0["name"], $0["role"], $0["secret_hash"]) }
        }
        guard let found, Self.constantTimeEqual(hash, Array(found.hash)), let role = Role(rawValue: found.role) else { return nil }
        return Identity(keyId: id, name: found.name, role: role)
    }

    struct Listed: Codable, Sendable {
        var id: String
        var name: String
        var role: String
        var createdAt: String
        var createdBy: String?
        var revokedAt: String?
        var lastUsedAt: String?

        enum CodingKeys: String, CodingKey {
            case id, name, role
            case createdAt = "created_at"
            case createdBy = "created_by"
            case revokedAt = "revoked_at"
            case lastUsedAt = "last_used_at"
        }
    }

    func list() async throws -> [Listed] {
        try await db.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, role, created_at, created_by, revoked_at, last_used_at FROM api_key ORDER BY created_at").map
            {
                Listed(
                    id: $0["id"],
                    name: $0["name"],
                    role: $0["role"],
                    createdAt: $0["created_at"],
                    createdBy: $0["created_by"],
                    revokedAt: $0["revoked_at"],
                    lastUsedAt: $0["last_used_at"]
                )
            }
        }
    }

    /// `false` when there is no such active key.
    func revoke(id: String) async throws -> Bool {
        defer { verified.clear() }
        state.revoked.withLock { _ = $0.insert(id) }
        return try await db.writer.write { db in
            try db.execute(sql: "UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Timestamp.now(), id])
            return db.changesCount > 0
        }
    }

    /// On first start: an admin key, written to `<dir>/admin.key` (0600). Returns its path, or
    /// `nil` when keys exist already.
    func bootstrapAdmin(directory: String) async throws -> String? {
        let count = try await db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM api_key") ?? 0 }
        guard count == 0 else { return nil }
        let created = try await create(name: "bootstrap-admin", role: .admin, by: nil)
        let path = directory + "/admin.key"
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: Data((created.key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, "cannot write \(path)")
        }
        return path
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    static func random(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    static func base64url(_ b: [UInt8]) -> String {
        Data(b).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=",
            with: ""
        )
    }
}
