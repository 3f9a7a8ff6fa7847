import Foundation
import IceShelvesContracts
import Logging
import Testing

@testable import IceShelvesLXD

@Suite("Pins and connection settings")
struct PinningTests {
    @Test func fingerprintsParseWithOrWithoutColons() throws {
        let hex = String(repeating: "ab", count: 32)
        let colons = stride(from: 0, to: 64, by: 2).map { i in String(hex.dropFirst(i).prefix(2)).uppercased() }.joined(separator: ":")
        #expect(try LXDConnector.fingerprintBytes(hex) == [UInt8](repeating: 0xab, count: 32))
        #expect(try LXDConnector.fingerprintBytes(colons) == [UInt8](repeating: 0xab, count: 32))
        #expect(throws: LXDError.self) { try LXDConnector.fingerprintBytes("abc") }
        #expect(throws: LXDError.self) { try LXDConnector.fingerprintBytes(String(repeating: "zz", count: 32)) }
    }

    @Test func aCertificateDigestIsTheSHA256OfItsDER() throws {
        let der: [UInt8] = Array("not really DER but bytes".utf8)
        let pem = "-----BEGIN CERTIFICATE-----\n\(Data(der).base64EncodedString(options: .lineLength64Characters))\n-----END CERTIFICATE-----\n"
        let digest = try LXDConnector.certificateDigest(pem: pem)
        #expect(digest.count == 32)
        #expect(throws: LXDError.self) { try LXDConnector.certificateDigest(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----") }
    }

    @Test func sshFingerprintsCompareInOpenSSHForm() {
        let digest = Data(repeating: 7, count: 32)
        let f = SSHSession.fingerprint(digest)
        #expect(f.hasPrefix("SHA256:"))
        #expect(!f.hasSuffix("="))
        #expect(SSHSession.normalised(f) == SSHSession.normalised(f + "="))
    }

    @Test func incompleteSettingsAreRefusedBeforeAnyConnection() async {
        let connector = LXDConnector(timeout: .seconds(1), logger: Logger(label: "test"))
        let cases: [(ClusterConnection, String)] = [
            (.init(method: .directAPI, endpointURL: "http://127.0.0.1:8443"), "https://"),
            (.init(method: .directAPI, endpointURL: "https://127.0.0.1:8443"), "client_cert"),
            (
                .init(
                    method: .directAPI,
                    endpointURL: "https://127.0.0.1:8443",
                    clientCert: "-----BEGIN CERTIFICATE-----",
                    clientKey: "-----BEGIN PRIVATE KEY-----"
                ), "server_cert"
            ),
            (.init(method: .ssh, sshHost: "127.0.0.1", sshUser: "root"), "ssh_key"),
            (.init(method: .ssh, sshHost: "127.0.0.1", sshUser: "root", sshKey: "-----BEGIN OPENSSH PRIVATE KEY-----"), "ssh_host_key_fingerprint"),
        ]
        for (connection, mention) in cases {
            do {
                _ = try await connector.connect(connection)
                Issue.record("\(connection) was accepted")
            } catch let e as LXDError {
                #expect(e.kind == .configuration)
                #expect(e.message.contains(mention), "\(e.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func aConnectionNeverPrintsItsSecrets() throws {
        let c = ClusterConnection(
            method: .ssh,
            sshHost: "h",
            sshUser: "u",
            sshKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET",
            sshHostKeyFingerprint: "SHA256:x"
        )
        #expect(!"\(c)".contains("SECRET"))
        let d = ClusterConnection(method: .directAPI, endpointURL: "https://x:8443", clientKey: "SECRETKEY")
        #expect(!"\(d)".contains("SECRETKEY"))
        let json = #"{"connection_method":"ssh","ssh_host":"h","ssh_user":"u"}"#
        let decoded = try JSONDecoder().decode(ClusterConnection.self, from: Data(json.utf8))
        #expect(decoded.sshPort == 22 && decoded.verifySSL && decoded.socketPath == ClusterConnection.defaultSocketPath)
    }

    @Test func aMissingUnixSocketIsAConnectionErrorWithItsPath() async {
        let client = LXDClient(
            transport: CurlTransport(endpoint: .unix(path: "/nonexistent/lxd.socket"), connectTimeout: .seconds(1)),
            timeout: .seconds(2)
        )
        do {
            _ = try await client.server()
            Issue.record("no error")
        } catch let e as LXDError {
            #expect(e.kind == .connection)
            #expect(e.message.contains("cannot reach LXD"), "\(e.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
