import Foundation
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesLibvirt
import IceShelvesTestSupport
import Testing

/// What the offline test egg (`debian-hello`) must have done inside an instance, checked from the
/// hypervisor's side: the file its `write_files` wrote, the marker its `runcmd` left, cloud-init
/// finished, and cloud-init's own instance-id.
enum InsideChecks {
    /// Inside an LXD instance (through the LXD API: file reads and exec). With `deploymentId`,
    /// cloud-init's instance-id must be the rendered `iid-<deployment id>`.
    static func lxd(_ lxd: LXDClient, _ name: String, greeting: String, deploymentId: String? = nil) async throws {
        let hello = String(decoding: try await lxd.file(name, path: "/etc/iceshelves/hello.txt"), as: UTF8.self)
        #expect(hello == greeting, "\(name): /etc/iceshelves/hello.txt")
        let done = String(decoding: try await lxd.file(name, path: "/var/lib/iceshelves-hello.done"), as: UTF8.self)
        #expect(done.contains("ok"), "\(name): the runcmd marker")
        let status = try await lxd.exec(name, ["cloud-init", "status"], timeout: .seconds(30))
        #expect(status.stdout.contains("done"), "\(name): \(status.stdout)")
        if let deploymentId {
            let data = try await lxd.file(name, path: "/run/cloud-init/instance-data.json")
            let json = try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any]
            let v1 = json?["v1"] as? [String: Any]
            #expect(v1?["instance_id"] as? String == "iid-\(deploymentId)", "\(name): cloud-init's instance-id")
        }
    }

    /// Inside a libvirt VM: the markers the guest printed on its console log volume, then, with
    /// the domain stopped (this check stops it), the egg's files read from its root overlay.
    static func kvm(_ name: String, greeting: String, settings: LibvirtSettings, poolDir: String) async throws {
        let c = try await LibvirtConnection.open(settings.uri)
        #expect(try await c.domainNames().filter { $0 == name }.count == 1, "one domain \(name)")
        let console = String(decoding: try await c.download(volume: name + "-console.log", pool: settings.storagePool), as: UTF8.self)
        #expect(console.contains("ICESHELVES-CLOUD-INIT-DONE"), "\(name): cloud-init's end on the console")
        #expect(console.contains("debian-hello is ready"), "\(name): the egg's final message on the console")
        // The egg's runcmd wrote a file inside the guest: read it back from the overlay after a stop.
        try await c.stopDomain(name)
        let overlay = poolDir + "/\(name)-root.qcow2"
        let raw = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).raw").path
        defer { try? FileManager.default.removeItem(atPath: raw) }
        #expect(try Tool.run("/usr/bin/qemu-img", ["convert", "-O", "raw", overlay, raw]).status == 0)
        let done = try Tool.run("/usr/sbin/debugfs", ["-c", "-R", "cat /var/lib/iceshelves-hello.done", raw])
        #expect(done.output.contains("ok"), "debugfs: \(done.output)")
        let hello = try Tool.run("/usr/sbin/debugfs", ["-c", "-R", "cat /etc/iceshelves/hello.txt", raw])
        #expect(hello.output.contains(greeting), "debugfs: \(hello.output)")
    }
}
