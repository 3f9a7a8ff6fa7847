import Foundation
import Testing

@testable import IceShelvesLibvirt

/// Against libvirt's in-process `test:///default` driver: real C API calls, no daemon.
/// (Its state lives as long as the connection; it cannot upload into volumes.)
@Suite("libvirt client against test:///default")
struct TestDriverTests {
    @Test("host info and pools")
    func hostInfo() async throws {
        let c = try await LibvirtConnection.open("test:///default")
        let info = try await c.hostInfo()
        #expect(info.cpus > 0)
        #expect(info.memoryBytes > 0)
        #expect(!info.hypervisorVersion.isEmpty)
        let pools = try await c.pools()
        #expect(pools.contains { $0.name == "default-pool" })
    }

    @Test("an overlay volume with a backing store, then its removal")
    func volumes() async throws {
        let c = try await LibvirtConnection.open("test:///default")
        let base = try await c.createVolume(pool: "default-pool", xml: VolumePlan.rawXML(name: "base.img", bytes: 1 << 20))
        let plan = VolumePlan(instance: "t1")
        let root = try await c.createVolume(pool: "default-pool", xml: plan.rootXML(capacity: 2 << 20, basePath: base.path, baseFormat: "raw"))
        #expect(root.name == "t1-root.qcow2")
        #expect(try await c.volume("t1-root.qcow2", pool: "default-pool") != nil)
        #expect(try await c.deleteVolume("t1-root.qcow2", pool: "default-pool"))
        #expect(try await c.deleteVolume("t1-root.qcow2", pool: "default-pool") == false)
        #expect(try await c.volume("t1-root.qcow2", pool: "default-pool") == nil)
    }

    @Test("define, start, find our marker, remove")
    func domains() async throws {
        let c = try await LibvirtConnection.open("test:///default")
        var plan = DomainPlan(
            name: "t-dom",
            deploymentId: "dep-42",
            domainType: "test",
            pool: "default-pool",
            network: "default",
            consoleLogPath: "/tmp/x.log"
        )
        plan.fragment = "<domain><memory unit='MiB'>128</memory></domain>"
        // The test driver does not resolve volume disks; a domain with just our metadata and memory.
        let xml = """
            <domain type='test'><name>t-dom</name><memory unit='MiB'>128</memory>
            <metadata><iceshelves:deployment xmlns:iceshelves='\(DomainPlan.metadataNamespace)' id='dep-42'/></metadata>
            <os><type>hvm</type></os></domain>
            """
        _ = try plan.xml()
        try await c.defineDomain(xml: xml)
        #expect(try await c.domainState("t-dom") == .shutoff)
        try await c.startDomain("t-dom")
        #expect(try await c.domainState("t-dom") == .running)
        let got = try #require(try await c.domainXML("t-dom"))
        #expect(DomainPlan.deploymentId(inDomainXML: got) == "dep-42")
        #expect(try await c.removeDomain("t-dom"))
        #expect(try await c.domainState("t-dom") == nil)
        #expect(try await c.removeDomain("t-dom") == false)
    }

    @Test("libvirt's errors become typed errors")
    func errors() async throws {
        let c = try await LibvirtConnection.open("test:///default")
        await #expect(throws: LibvirtError.self) { try await c.pool("no-such-pool") }
        do {
            try await c.startDomain("no-such-domain")
            Issue.record("started a missing domain")
        } catch let e as LibvirtError {
            #expect(e.kind == .notFound)
        }
        do {
            try await c.defineDomain(xml: "<domain type='test'><name>bad</name></domain>")
            Issue.record("defined a domain without memory")
        } catch let e as LibvirtError {
            #expect(!e.message.isEmpty)
        }
        do {
            _ = try await LibvirtConnection.open("nosuchdriver:///x")
            Issue.record("opened a bogus URI")
        } catch let e as LibvirtError {
            #expect(e.kind == .connection || e.kind == .invalid)
        }
    }

    @Test("a connection that does not answer times out")
    func timeout() async throws {
        // A listener that never speaks: libvirt's handshake waits, our timeout does not.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 4)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = UInt16(bigEndian: addr.sin_port)
        do {
            _ = try await LibvirtConnection.open("test+tcp://127.0.0.1:\(port)/default", timeout: .milliseconds(500))
            Issue.record("connected to a silent listener")
        } catch let e as LibvirtError {
            #expect(e.kind == .timeout)
        }
    }
}
