import Foundation
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// The three transports against the real LXD that `scripts/lxd-env` starts, and the refusals.
@Suite(
    "LXD transports (real LXD, real sshd)",
    .enabled(if: TestLXD.unixSocket != nil, "run scripts/lxd-env up and export its env (scripts/test does)")
)
struct TransportTests {
    let connector = LXDConnector(timeout: .seconds(10), logger: Logger(label: "lxd-test"))

    func expectTrustedServer(_ connection: ClusterConnection?) async throws {
        let c = try #require(connection)
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        let server = try await lxd.server()
        #expect(server.auth == "trusted", "\(c)")
        #expect(server.apiVersion == "1.0")
        #expect(try await lxd.imageAlias(TestLXD.image) != nil, "the test image \(TestLXD.image) should be imported")
        #expect(try await lxd.instance("no-such-instance-here") == nil)
    }

    @Test func theUnixSocketReachesLXD() async throws { try await expectTrustedServer(TestLXD.unixSocket) }

    @Test func httpsWithThePinnedCertificateReachesLXD() async throws { try await expectTrustedServer(TestLXD.https) }

    @Test func httpsWithThePinnedFingerprintReachesLXD() async throws {
        var c = try #require(TestLXD.https)
        c.serverFingerprint = try LXDConnector.certificateDigest(pem: c.serverCert!).map { String(format: "%02X", $0) }.joined(separator: ":")
        c.serverCert = nil
        try await expectTrustedServer(c)
    }

    @Test func theSSHTunnelReachesLXD() async throws { try await expectTrustedServer(TestLXD.ssh) }

    @Test func manyRequestsShareTheTunnel() async throws {
        let lxd = try await connector.connect(try #require(TestLXD.ssh))
        defer { lxd.close() }
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await lxd.server().apiVersion } }
            for try await v in group { #expect(v == "1.0") }
        }
    }

    @Test func aWrongServerCertificateIsRefused() async throws {
        var c = try #require(TestLXD.https)
        c.serverCert = try #require(TestLXD.clusterCertificate)  // a real certificate, but not this server's
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        await #expect {
            _ = try await lxd.server()
        } throws: { error in
            guard let e = error as? LXDError else { return false }
            return e.kind == .tls && e.message.contains("pinned certificate")
        }
    }

    @Test func anUntrustedClientCertificateGetsNoAccess() async throws {
        var c = try #require(TestLXD.https)
        let other = try #require(TestLXD.untrustedIdentity)
        c.clientCert = other.cert
        c.clientKey = other.key
        let lxd = try await connector.connect(c)
        defer { lxd.close() }
        #expect(try await lxd.server().auth == "untrusted")
        await #expect {
            _ = try await lxd.clusterMembers()
        } throws: { error in
            (error as? LXDError)?.kind == .api && (error as? LXDError)?.status == 403
        }
    }

    @Test func anUnknownSSHHostKeyIsRefused() async throws {
        var c = try #require(TestLXD.ssh)
        c.sshHostKeyFingerprint = "SHA256:" + Data(repeating: 1, count: 32).base64EncodedString().replacingOccurrences(of: "=", with: "")
        await #expect {
            _ = try await connector.connect(c)
        } throws: { error in
            guard let e = error as? LXDError else { return false }
            return e.kind == .ssh && e.message.contains("not the pinned")
        }
    }

    @Test func aWrongSSHKeyIsRefused() async throws {
        var c = try #require(TestLXD.ssh)
        c.sshKey = try #require(TestLXD.wrongSSHKey)
        await #expect {
            _ = try await connector.connect(c)
        } throws: { error in
            guard let e = error as? LXDError else { return false }
            return e.kind == .ssh && e.message.contains("refused")
        }
    }

    @Test func theClusterListsBothMembersOverPinnedHTTPS() async throws {
        let lxd = try await connector.connect(try #require(TestLXD.cluster))
        defer { lxd.close() }
        let members = try await lxd.clusterMembers()
        #expect(Set(members.map(\.serverName)) == Set(TestLXD.clusterMembers))
        #expect(members.allSatisfy { $0.status == "Online" })
        for m in members { #expect(try await lxd.resources(member: m.serverName).memory.total > 0) }
    }
}
