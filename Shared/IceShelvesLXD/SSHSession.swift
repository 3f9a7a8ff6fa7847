import CSSH2
import Foundation

/// One authenticated libssh2 session: TCP connect, handshake, host key checked against the
/// pinned fingerprint, public-key login. Blocking: call it from a thread of its own.
final class SSHSession: @unchecked Sendable {
    struct Settings: Sendable {
        var host: String
        var port: Int
        var user: String
        var privateKey: String
        /// `SHA256:<base64>` as `ssh-keygen -lf` prints it.
        var hostKeyFingerprint: String
        var timeout: Duration
    }

    let session: OpaquePointer
    let socket: Int32

    private static let global: Void = { _ = libssh2_init(0) }()

    init(_ settings: Settings) throws {
        _ = Self.global
        let where_ = "\(settings.user)@\(settings.host):\(settings.port)"
        socket = try Self.connect(host: settings.host, port: settings.port, timeout: settings.timeout)
        guard let s = iceshelves_ssh_session_new() else {
            Foundation.close(socket)
            throw LXDError(.ssh, "libssh2 could not create a session")
        }
        session = s
        libssh2_session_set_timeout(s, settings.timeout.milliseconds)
        do {
            if libssh2_session_handshake(s, socket) != 0 {
                throw LXDError(.ssh, "SSH handshake with \(settings.host):\(settings.port) failed: \(lastError)")
            }
            guard let raw = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256) else {
                throw LXDError(.ssh, "SSH server \(settings.host):\(settings.port) offered no host key")
            }
            let presented = Self.fingerprint(Data(bytes: raw, count: 32))
            guard Self.normalised(presented) == Self.normalised(settings.hostKeyFingerprint), !settings.hostKeyFingerprint.isEmpty else {
                throw LXDError(
                    .ssh,
                    "SSH host key of \(settings.host):\(settings.port) is \(presented), not the pinned \(settings.hostKeyFingerprint.isEmpty ? "(none)" : settings.hostKeyFingerprint); refusing to connect"
                )
            }
            let rc = settings.user.withCString { user in
                settings.privateKey.withCString { key in iceshelves_ssh_auth_key(s, user, key, strlen(key)) }
            }
            if rc != 0 {
                throw LXDError(.ssh, "SSH public-key login as \(where_) was refused: \(lastError)")
            }
        } catch {
            close()
            throw error
        }
    }

    /// libssh2's last error, as text.
    var lastError: String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        return message.map { "\(String(cString: $0)) (\(code))" } ?? "error \(code)"
    }

    func close() {
        _ = iceshelves_ssh_close_session(session, "bye")
        libssh2_session_free(session)
        Foundation.close(socket)
    }

    /// OpenSSH's form: `SHA256:` and unpadded base64.
    static func fingerprint(_ digest: Data) -> String {
        "SHA256:" + digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    static func normalised(_ fingerprint: String) -> String {
        var f = fingerprint.trimmingCharacters(in: .whitespaces)
        if f.hasPrefix("SHA256:") { f.removeFirst(7) }
        while f.hasSuffix("=") { f.removeLast() }
        return f
    }

    /// A TCP connection with a timeout on the connect itself.
    static func connect(host: String, port: Int, timeout: Duration) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw LXDError(.connection, "cannot resolve SSH host \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = Foundation.socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var ok = Foundation.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0
            if !ok && errno == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, Int32(timeout.milliseconds)) == 1 {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    ok = err == 0
                    if !ok { lastError = String(cString: strerror(err)) }
                } else {
                    lastError = "timed out after \(timeout)"
                }
            } else if !ok {
                lastError = String(cString: strerror(errno))
            }
            if ok {
                _ = fcntl(fd, F_SETFL, flags)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            Foundation.close(fd)
        }
        throw LXDError(.connection, "cannot connect to SSH \(host):\(port): \(lastError)")
    }
}
