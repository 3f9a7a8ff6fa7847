import Crypto
import Foundation
import IceShelvesContracts
import Logging

/// Turns a ``ClusterConnection`` into an ``LXDClient`` over the right transport, after checking
/// that the settings are complete.
public struct LXDConnector: Sendable {
    public let timeout: Duration
    public let logger: Logger

    public init(timeout: Duration = .seconds(30), logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    public func connect(_ c: ClusterConnection) async throws -> LXDClient {
        switch c.method {
        case .libvirt:
            throw LXDError(.configuration, "this is a KVM cluster (libvirt); the kvm-deployer serves it")
        case .unixSocket:
            return LXDClient(
                transport: CurlTransport(endpoint: .unix(path: c.socketPath), connectTimeout: timeout),
                project: c.project,
                timeout: timeout
            )
        case .directAPI:
            guard let url = c.endpointURL, url.hasPrefix("https://") else {
                throw LXDError(.configuration, "direct-api needs endpoint_url as https://host:port")
            }
            guard let cert = c.clientCert, let key = c.clientKey, cert.contains("BEGIN CERTIFICATE"), key.contains("PRIVATE KEY") else {
                throw LXDError(.configuration, "direct-api needs client_cert and client_key as PEM text")
            }
            let trust: CurlTransport.ServerTrust
            if let pem = c.serverCert, !pem.isEmpty {
                trust = .pinned(sha256: try Self.certificateDigest(pem: pem))
            } else if let fp = c.serverFingerprint, !fp.isEmpty {
                trust = .pinned(sha256: try Self.fingerprintBytes(fp))
            } else if !c.verifySSL {
                logger.warning(
                    "TLS verification is OFF for this LXD connection (verify_ssl: false); anyone on the path can read and change its traffic",
                    metadata: ["endpoint": "\(url)"]
                )
                trust = .insecure
            } else {
                throw LXDError(
                    .configuration,
                    "direct-api needs server_cert (PEM) or server_fingerprint to pin the server, or verify_ssl: false as an explicit opt-out"
                )
            }
            let identity = CurlTransport.ClientIdentity(certificatePEM: cert, keyPEM: key)
            return LXDClient(
                transport: CurlTransport(
                    endpoint: .https(url: url, identity: identity, trust: trust, resolve: c.pinnedAddress),
                    connectTimeout: timeout
                ),
                project: c.project,
                timeout: timeout
            )
        case .ssh:
            guard let host = c.sshHost, !host.isEmpty, let user = c.sshUser, !user.isEmpty, let key = c.sshKey, key.contains("PRIVATE KEY") else {
                throw LXDError(.configuration, "ssh needs ssh_host, ssh_user and ssh_key (a PEM or OpenSSH private key)")
            }
            guard let pin = c.sshHostKeyFingerprint, pin.hasPrefix("SHA256:") else {
                throw LXDError(
                    .configuration,
                    "ssh needs ssh_host_key_fingerprint (SHA256:… as `ssh-keygen -lf` prints it); an unknown host key is refused"
                )
            }
            guard (1...65535).contains(c.sshPort) else { throw LXDError(.configuration, "ssh_port \(c.sshPort) is not a port") }
            let tunnel = try await SSHTunnel(
                settings: .init(
                    host: c.pinnedAddress ?? host,
                    port: c.sshPort,
                    user: user,
                    privateKey: key,
                    hostKeyFingerprint: pin,
                    remoteSocket: c.socketPath,
                    timeout: timeout
                ),
                logger: logger
            )
            let transport = CurlTransport(endpoint: .unix(path: tunnel.localSocketPath), connectTimeout: timeout, onClose: { tunnel.close() })
            return LXDClient(transport: transport, project: c.project, timeout: timeout)
        }
    }

    /// SHA-256 of the first certificate in a PEM text.
    public static func certificateDigest(pem: String) throws -> [UInt8] {
        guard let begin = pem.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = pem.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<pem.endIndex),
            let der = Data(base64Encoded: pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace })
        else {
            throw LXDError(.configuration, "server_cert is not a PEM certificate")
        }
        return Array(SHA256.hash(data: der))
    }

    /// A SHA-256 fingerprint in hex, with or without colons.
    public static func fingerprintBytes(_ text: String) throws -> [UInt8] {
        let hex = text.lowercased().filter { $0 != ":" && !$0.isWhitespace }
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw LXDError(.configuration, "server_fingerprint must be the certificate's SHA-256 in hex (64 digits)")
        }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            bytes.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return bytes
    }
}
