import Foundation
import Synchronization

/// Browser sessions of the web UI, in memory: a random id in an HttpOnly cookie maps to the API
/// key pasted at login (never put in a URL or a page), its role, and the session's CSRF token.
/// A restarted gateway forgets them, and people log in again.
final class WebSessions: Sendable {
    struct Session: Sendable {
        var key: String
        var name: String
        var role: Role
        var csrf: String
        var expires: Date
    }

    static let cookie = "iceshelves_session"
    static let lifetime: TimeInterval = 12 * 3600
    private let state = Mutex<[String: Session]>([:])
    private let limit: Int

    init(limit: Int = 10_000) { self.limit = limit }

    /// Starts a session; answers its id.
    func create(key: String, identity: Identity, now: Date = Date()) -> (id: String, session: Session) {
        let id = KeyStore.base64url(KeyStore.random(32))
        let session = Session(
            key: key,
            name: identity.name,
            role: identity.role,
            csrf: KeyStore.base64url(KeyStore.random(32)),
            expires: now + Self.lifetime
        )
        state.withLock { all in
            all = all.filter { $0.value.expires > now }
            if all.count >= limit, let oldest = all.min(by: { $0.value.expires < $1.value.expires })?.key { all[oldest] = nil }
            all[id] = session
        }
        return (id, session)
    }

    /// The live session of that id.
    func get(_ id: String?, now: Date = Date()) -> Session? {
        guard let id, id.utf8.count <= 64 else { return nil }
        return state.withLock { all in
            guard let s = all[id] else { return nil }
            guard s.expires > now else {
                all[id] = nil
                return nil
            }
            return s
        }
    }

    func remove(_ id: String?) {
        guard let id else { return }
        _ = state.withLock { $0.removeValue(forKey: id) }
    }
}
