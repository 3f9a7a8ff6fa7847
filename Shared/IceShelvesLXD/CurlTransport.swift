import Foundation
import Synchronization

/// The one ``LXDTransport``: libcurl over a unix socket, or over HTTPS with a client
/// certificate and a pinned server certificate.
///
/// Each request runs on its own thread (libcurl blocks; Swift's cooperative pool must not).
/// Easy handles, and with them their open connections, are pooled and reused.
public final class CurlTransport: LXDTransport {
    public struct ClientIdentity: Sendable {
        public var certificatePEM: String
        public var keyPEM: String

        public init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }
    }

    public enum ServerTrust: Sendable {
        /// The server must present the certificate with this SHA-256 (of its DER).
        case pinned(sha256: [UInt8])
        /// No verification: an explicit opt-in (`verify_ssl: false`), logged by the caller.
        case insecure
    }

    public enum Endpoint: Sendable {
        case unix(path: String)
        /// `resolve`: connect to this address for the URL's host (curl's `CURLOPT_RESOLVE`).
        case https(url: String, identity: ClientIdentity, trust: ServerTrust, resolve: String? = nil)
    }

    public let endpoint: Endpoint
    let connectTimeout: Duration
    private let idle = Mutex<[CurlHandle]>([])
    private let onClose: (@Sendable () -> Void)?
    private static let maxIdle = 16

    /// `onClose` runs once when the transport is closed (the SSH tunnel uses it).
    public init(endpoint: Endpoint, connectTimeout: Duration, onClose: (@Sendable () -> Void)? = nil) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.onClose = onClose
    }

    public func send(_ request: LXDHTTPRequest) async throws -> LXDHTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { [self] in
                continuation.resume(with: Result { try self.perform(request) })
            }
            thread.name = "lxd-http"
            thread.start()
        }
    }

    private func perform(_ request: LXDHTTPRequest) throws -> LXDHTTPResponse {
        let handle = try idle.withLock { $0.popLast() } ?? CurlHandle(endpoint: endpoint, connectTimeout: connectTimeout)
        let response = try handle.perform(request)
        idle.withLock { if $0.count < Self.maxIdle { $0.append(handle) } }
        return response
    }

    public func close() {
        idle.withLock { $0.removeAll() }
        onClose?()
    }
}
