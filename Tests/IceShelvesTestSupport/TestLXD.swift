import Foundation
import IceShelvesContracts

/// The LXD test environment that `scripts/lxd-env up` starts, read from the variables it
/// writes (and `scripts/test` exports). `nil` connections mean "not available": the tests skip.
public enum TestLXD {
    static let env = ProcessInfo.processInfo.environment

    static func file(_ key: String) -> String? {
        env[key].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
    }

    /// The image alias the environment imported (the debian-hello egg's base image).
    public static var image: String { env["ICESHELVES_TEST_LXD_IMAGE"] ?? "iceshelves/debian-12" }

    public static var unixSocket: ClusterConnection? {
        env["ICESHELVES_TEST_LXD_SOCKET"].map { ClusterConnection.unixSocket($0) }
    }

    /// HTTPS on loopback with the trusted client certificate and the server certificate pinned.
    public static var https: ClusterConnection? {
        guard let url = env["ICESHELVES_TEST_LXD_HTTPS_URL"], let cert = file("ICESHELVES_TEST_LXD_CLIENT_CERT"),
            let key = file("ICESHELVES_TEST_LXD_CLIENT_KEY"), let server = file("ICESHELVES_TEST_LXD_SERVER_CERT")
        else { return nil }
        return ClusterConnection(method: .directAPI, endpointURL: url, clientCert: cert, clientKey: key, serverCert: server)
    }

    /// A client certificate the server does not trust.
    public static var untrustedIdentity: (cert: String, key: String)? {
        guard let c = file("ICESHELVES_TEST_LXD_UNTRUSTED_CERT"), let k = file("ICESHELVES_TEST_LXD_UNTRUSTED_KEY") else { return nil }
        return (c, k)
    }

    /// The SSH tunnel to the local LXD socket through the test sshd.
    public static var ssh: ClusterConnection? {
        guard let host = env["ICESHELVES_TEST_SSH_HOST"], let port = env["ICESHELVES_TEST_SSH_PORT"].flatMap(Int.init),
            let key = file("ICESHELVES_TEST_SSH_KEY"), let pin = env["ICESHELVES_TEST_SSH_HOST_FINGERPRINT"]
        else { return nil }
        return ClusterConnection(
            method: .ssh,
            sshHost: host,
            sshPort: port,
            sshUser: env["ICESHELVES_TEST_SSH_USER"] ?? "root",
            sshKey: key,
            sshHostKeyFingerprint: pin,
            socketPath: env["ICESHELVES_TEST_LXD_SOCKET"] ?? ClusterConnection.defaultSocketPath
        )
    }

    /// A private key that the test sshd does not accept.
    public static var wrongSSHKey: String? { file("ICESHELVES_TEST_SSH_WRONG_KEY") }

    /// The 2-member cluster over HTTPS, its certificate pinned.
    public static var cluster: ClusterConnection? {
        guard let url = env["ICESHELVES_TEST_LXD_CLUSTER_URL"], let cert = file("ICESHELVES_TEST_LXD_CLIENT_CERT"),
            let key = file("ICESHELVES_TEST_LXD_CLIENT_KEY"), let server = file("ICESHELVES_TEST_LXD_CLUSTER_CERT")
        else { return nil }
        return ClusterConnection(method: .directAPI, endpointURL: url, clientCert: cert, clientKey: key, serverCert: server)
    }

    public static var clusterMembers: [String] {
        (env["ICESHELVES_TEST_LXD_CLUSTER_MEMBERS"] ?? "").split(separator: ",").map(String.init)
    }

    /// The cluster's certificate, to pin where it is the wrong certificate.
    public static var clusterCertificate: String? { file("ICESHELVES_TEST_LXD_CLUSTER_CERT") }
}
