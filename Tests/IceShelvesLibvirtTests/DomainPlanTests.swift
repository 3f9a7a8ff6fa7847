import Foundation
import Testing

@testable import IceShelvesLibvirt

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Domain XML and volume plan")
struct DomainPlanTests {
    func plan(fragment: String? = nil, memory: Int? = nil, vcpus: Int? = nil) -> DomainPlan {
        DomainPlan(
            name: "vm-1",
            deploymentId: "dep-1",
            domainType: "qemu",
            memoryMiB: memory,
            vcpus: vcpus,
            pool: "eggs",
            network: "isolated",
            consoleLogPath: "/pool/vm-1-console.log",
            kernel: "/pool/k",
            initrd: "/pool/i",
            fragment: fragment
        )
    }

    @Test("the default domain has the overlay, the seed cdrom, the NIC, the logged serial console and our marker")
    func defaults() throws {
        let xml = try plan().xml()
        #expect(xml.contains("type=\"qemu\""))
        #expect(xml.contains("volume=\"vm-1-root.qcow2\""))
        #expect(xml.contains("volume=\"vm-1-seed.iso\""))
        #expect(xml.contains("device=\"cdrom\""))
        #expect(xml.contains("network=\"isolated\""))
        #expect(xml.contains("/pool/vm-1-console.log"))
        #expect(xml.contains("<kernel>/pool/k</kernel>"))
        #expect(DomainPlan.deploymentId(inDomainXML: xml) == "dep-1")
    }

    @Test("the egg's fragment replaces memory and vCPUs and adds devices, but not the type, name or boot")
    func merge() throws {
        let fragment = """
            <domain type="kvm"><name>evil</name><memory unit="MiB">256</memory><vcpu>3</vcpu>
            <os><type>hvm</type></os><devices><watchdog model="i6300esb"/></devices></domain>
            """
        let xml = try plan(fragment: fragment).xml()
        #expect(xml.contains("type=\"qemu\""))
        #expect(!xml.contains("evil"))
        #expect(xml.contains("<vcpu>3</vcpu>"))
        #expect(xml.contains(">256</memory>"))
        #expect(xml.contains("i6300esb"))
        #expect(xml.contains("<kernel>/pool/k</kernel>"))
    }

    @Test("explicit memory and vCPUs win over the fragment")
    func explicitWins() throws {
        let xml = try plan(fragment: "<domain><memory unit='MiB'>256</memory><vcpu>3</vcpu></domain>", memory: 2048, vcpus: 2).xml()
        #expect(xml.contains(">2048</memory>"))
        #expect(xml.contains("<vcpu>2</vcpu>"))
        #expect(!xml.contains(">256<"))
    }

    @Test("a broken fragment is an `invalid` error, not a crash")
    func brokenFragment() {
        #expect(throws: LibvirtError.self) { try plan(fragment: "<domain><memory>").xml() }
        #expect(throws: LibvirtError.self) { try plan(fragment: "<vm/>").xml() }
    }

    @Test("names and paths are escaped")
    func escaping() throws {
        var p = plan()
        p.network = "a'b<c"
        let xml = try p.xml()
        #expect(try XMLDocument(xmlString: xml, options: []).rootElement()?.name == "domain")
    }

    @Test("the overlay is at least the base image, and the requested size when larger")
    func volumePlan() {
        #expect(VolumePlan.rootCapacity(requestedGB: nil, base: 3 << 30) == 3 << 30)
        #expect(VolumePlan.rootCapacity(requestedGB: 10, base: 3 << 30) == 10 << 30)
        #expect(VolumePlan.rootCapacity(requestedGB: 1, base: 3 << 30) == 3 << 30)
        let v = VolumePlan(instance: "vm")
        #expect(v.all == ["vm-root.qcow2", "vm-seed.iso", "vm-console.log"])
        let xml = v.rootXML(capacity: 5, basePath: "/p/base.qcow2")
        #expect(xml.contains("<backingStore><path>/p/base.qcow2</path>"))
    }
}

@Suite("Domain sizing")
struct DomainSizingTests {
    @Test("the egg's minimums raise the fragment's memory and vCPUs, never lower them")
    func minimums() throws {
        var p = DomainPlan(name: "v", deploymentId: "d", domainType: "qemu", pool: "p", network: "n", consoleLogPath: "/c")
        p.fragment = "<domain><memory unit='MiB'>256</memory><vcpu>2</vcpu></domain>"
        p.minMemoryMiB = 512
        p.minVCPUs = 1
        let xml = try p.xml()
        #expect(xml.contains(">512</memory>"))
        #expect(xml.contains("<vcpu>2</vcpu>"))
        p.minMemoryMiB = 128
        #expect(try p.xml().contains(">256</memory>"))
    }
}
