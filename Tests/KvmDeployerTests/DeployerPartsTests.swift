import Foundation
import IceShelvesContracts
import IceShelvesKVMDeploy
import IceShelvesLibvirt
import Testing

@testable import KvmDeployer

@Suite("kvm-deployer parts")
struct DeployerPartsTests {
    let opener = LibvirtOpener(timeout: .seconds(5), allowInsecure: false)

    @Test("the cloud-init marker: done, errors, incomplete line, none")
    func marker() {
        let done = Array("boot…\r\nICESHELVES-CLOUD-INIT-DONE {\"status\": \"done\", \"errors\": []}\r\n".utf8)
        #expect(CloudInitMarker.find(in: done)?.outcome == .done)
        let failed = Array("ICESHELVES-CLOUD-INIT-DONE {\"status\": \"error\", \"errors\": [\"runcmd failed\"]}\n".utf8)
        let m = CloudInitMarker.find(in: failed)
        #expect(m?.outcome == .error)
        #expect(m?.errors == ["runcmd failed"])
        #expect(CloudInitMarker.find(in: Array("ICESHELVES-CLOUD-INIT-DONE {\"status\": \"do".utf8)) == nil)
        #expect(CloudInitMarker.find(in: Array("just booting\n".utf8)) == nil)
        #expect(CloudInitMarker.find(in: Array("ICESHELVES-CLOUD-INIT-DONE garbage\n".utf8))?.outcome == .other("unreadable"))
    }

    @Test("local URIs pass as they are; tcp and test URIs only when allowed")
    func schemes() throws {
        #expect(try opener.prepare(LibvirtSettings(uri: "qemu:///system")).uri == "qemu:///system")
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "qemu+tcp://127.0.0.1/system")) }
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "test:///default")) }
        let lab = LibvirtOpener(timeout: .seconds(5), allowInsecure: true)
        #expect(try lab.prepare(LibvirtSettings(uri: "qemu+tcp://127.0.0.1/system")).uri == "qemu+tcp://127.0.0.1/system")
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "xen://host/")) }
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "not a uri")) }
    }

    @Test("parameters in the URI are refused (libvirt's ssh transport runs a `command=` parameter)")
    func noQuery() {
        #expect(throws: LibvirtError.self) {
            try opener.prepare(LibvirtSettings(uri: "qemu+ssh://root@h/system?command=/bin/sh", sshKey: "k", sshHostKey: "ssh-ed25519 AAAA"))
        }
    }

    @Test("qemu+ssh: libssh2 transport, the key and the pinned host key in a private folder")
    func ssh() throws {
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "qemu+ssh://root@h/system")) }
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "qemu+ssh://root@h/system", sshKey: "KEY")) }
        let p = try opener.prepare(
            LibvirtSettings(uri: "qemu+ssh://root@127.0.0.1:2322/system", sshKey: "KEY", sshHostKey: "ssh-ed25519 AAAAC3 comment")
        )
        let folder = try #require(p.folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(p.uri.hasPrefix("qemu+libssh2://root@127.0.0.1:2322/system?keyfile="))
        #expect(p.uri.contains("known_hosts_verify=normal"))
        let known = try String(contentsOf: folder.appendingPathComponent("known_hosts"), encoding: .utf8)
        #expect(known == "[127.0.0.1]:2322 ssh-ed25519 AAAAC3\n")
        let mode = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("id").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("qemu+tls needs the client certificate, key and CA")
    func tls() throws {
        #expect(throws: LibvirtError.self) { try opener.prepare(LibvirtSettings(uri: "qemu+tls://h/system", clientCert: "C")) }
        let p = try opener.prepare(LibvirtSettings(uri: "qemu+tls://h/system", clientCert: "C", clientKey: "K", caCert: "A"))
        let folder = try #require(p.folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(p.uri == "qemu+tls://h/system?pkipath=\(folder.path)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("clientkey.pem").path))
    }

    @Test("a connection's description shows no secret")
    func noSecrets() {
        var c = ClusterConnection(method: .unixSocket)
        c.libvirt = LibvirtSettings(uri: "qemu+ssh://root@h/system", sshKey: "SECRET-KEY", clientKey: "SECRET2")
        #expect(!c.description.contains("SECRET"))
        #expect(c.description.contains("qemu+ssh://root@h/system"))
    }
}
