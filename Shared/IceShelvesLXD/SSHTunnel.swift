import CSSH2
import Foundation
import Logging
import Synchronization

/// A local unix socket whose every connection is relayed over SSH (libssh2) to the remote LXD
/// unix socket through a `direct-streamlocal` channel, so the HTTP layer stays the same.
///
/// Each accepted connection gets its own thread and SSH session; libcurl keeps connections
/// open, so sessions are few and long-lived.
public final class SSHTunnel: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var user: String
        public var privateKey: String
        public var hostKeyFingerprint: String
        public var remoteSocket: String
        public var timeout: Duration

        public init(host: String, port: Int, user: String, privateKey: String, hostKeyFingerprint: String, remoteSocket: String, timeout: Duration) {
            self.host = host
            self.port = port
            self.user = user
            self.privateKey = privateKey
            self.hostKeyFingerprint = hostKeyFingerprint
            self.remoteSocket = remoteSocket
            self.timeout = timeout
        }

        var session: SSHSession.Settings {
            .init(host: host, port: port, user: user, privateKey: privateKey, hostKeyFingerprint: hostKeyFingerprint, timeout: timeout)
        }
    }

    /// The local end: give it to ``CurlTransport`` as a unix endpoint.
    public let localSocketPath: String
    private let directory: String
    private let listener: Int32
    private let settings: Settings
    private let logger: Logger
    private let closed = Atomic<Bool>(false)

    /// Opens the tunnel. One SSH login is made first, so a wrong host key, a refused key or an
    /// unreachable host is an error here rather than on the first request.
    public init(settings: Settings, logger: Logger) async throws {
        self.settings = settings
        self.logger = logger
        try await Self.offThread { try SSHSession(settings.session).close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("iceshelves-ssh-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        directory = dir
        localSocketPath = dir + "/lxd.socket"
        let fd = Foundation.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        guard fd >= 0, iceshelves_sockaddr_un(&addr, localSocketPath) == 0 else {
            throw LXDError(.configuration, "cannot create the local tunnel socket \(dir)/lxd.socket")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            Foundation.close(fd)
            throw LXDError(.configuration, "cannot listen on \(localSocketPath): \(String(cString: strerror(errno)))")
        }
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "ssh-tunnel-accept"
        thread.start()
    }

    /// Stops accepting; open relays end when their connection does.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        Foundation.close(listener)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func acceptLoop() {
        while !closed.load(ordering: .acquiring) {
            let conn = accept(listener, nil, nil)
            if conn < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in relay(conn) }
            thread.name = "ssh-tunnel-relay"
            thread.start()
        }
    }

    private func relay(_ local: Int32) {
        defer { Foundation.close(local) }
        let ssh: SSHSession
        do {
            ssh = try SSHSession(settings.session)
        } catch {
            logger.error("SSH tunnel cannot open a session", metadata: ["error": "\(error)"])
            return
        }
        defer { ssh.close() }
        guard let channel = iceshelves_ssh_open_streamlocal(ssh.session, settings.remoteSocket) else {
            logger.error(
                "SSH server refused to forward to the LXD socket",
                metadata: ["socket": "\(settings.remoteSocket)", "error": "\(ssh.lastError)"]
            )
            return
        }
        defer { libssh2_channel_free(channel) }
        libssh2_session_set_blocking(ssh.session, 0)
        var buffer = [CChar](repeating: 0, count: 64 * 1024)
        var fds = [pollfd(fd: local, events: Int16(POLLIN), revents: 0), pollfd(fd: ssh.socket, events: Int16(POLLIN), revents: 0)]
        while true {
            // Drain the channel first: libssh2 may hold data it read during an earlier call.
            while true {
                let n = buffer.withUnsafeMutableBufferPointer { iceshelves_ssh_read(channel, $0.baseAddress, $0.count) }
                if n > 0 {
                    guard writeAll(local, buffer, n) else { return }
                } else if n == Int(LIBSSH2_ERROR_EAGAIN) {
                    break
                } else {
                    return  // 0 at EOF, or an error
                }
            }
            if libssh2_channel_eof(channel) != 0 { return }
            fds[0].revents = 0
            fds[1].revents = 0
            fds[1].events =
                Int16(POLLIN) | ((libssh2_session_block_directions(ssh.session) & LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0 ? Int16(POLLOUT) : 0)
            if poll(&fds, 2, 200) < 0 && errno != EINTR { return }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = buffer.withUnsafeMutableBufferPointer { Foundation.read(local, $0.baseAddress, $0.count) }
                if n <= 0 {
                    _ = libssh2_channel_send_eof(channel)
                    return
                }
                var sent = 0
                while sent < n {
                    let w = buffer.withUnsafeBufferPointer { iceshelves_ssh_write(channel, $0.baseAddress! + sent, n - sent) }
                    if w > 0 {
                        sent += w
                    } else if w == Int(LIBSSH2_ERROR_EAGAIN) {
                        var p = pollfd(fd: ssh.socket, events: Int16(POLLIN | POLLOUT), revents: 0)
                        _ = poll(&p, 1, 200)
                    } else {
                        return
                    }
                }
            }
        }
    }

    private func writeAll(_ fd: Int32, _ buffer: [CChar], _ count: Int) -> Bool {
        var written = 0
        while written < count {
            let w = buffer.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress! + written, count - written) }
            if w < 0 && errno == EINTR { continue }
            if w <= 0 { return false }
            written += w
        }
        return true
    }

    /// Runs blocking work on a thread of its own and awaits it.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }
}
