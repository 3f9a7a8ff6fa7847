import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A VM's libvirt domain XML: a sensible default (virtio disk on the overlay, the seed as a
/// cdrom, a virtio NIC on the cluster's network, the serial console logged to a volume), the
/// ownership marker in `<metadata>`, then the egg's `kvm-config.xml` fragment merged in.
///
/// Merge rules: the fragment's `memory`, `currentMemory`, `vcpu`, `cpu`, `features`, `clock`,
/// `memoryBacking`, `pm` and `on_*` elements replace the default's; its `<devices>` children are
/// added; everything else (`name`, `uuid`, `os`, `metadata`, the `type` attribute) is ours: the
/// cluster decides the domain type and the deployer the boot. The deployment's explicit memory
/// and vCPUs win over the fragment; the egg's minimums raise whatever is there.
public struct DomainPlan: Sendable, Equatable {
    public static let metadataNamespace = "https://iceshelves.dev/xmlns/libvirt/1"
    static let replaceable: Set<String> = [
        "memory", "currentMemory", "vcpu", "cpu", "features", "clock", "memoryBacking", "pm", "on_poweroff", "on_reboot", "on_crash",
    ]

    public var name: String
    public var deploymentId: String
    /// `kvm`, or `qemu` (TCG) where KVM is not available.
    public var domainType: String
    /// The deployment's explicit memory and vCPUs: they win over everything.
    public var memoryMiB: Int?
    public var vcpus: Int?
    /// The egg's minimums: they raise the default's or the fragment's values.
    public var minMemoryMiB: Int?
    public var minVCPUs: Int?
    public var pool: String
    public var volumes: VolumePlan
    public var network: String
    /// Host path of the serial console log (the console volume's path).
    public var consoleLogPath: String
    /// Direct kernel boot, for images without a boot loader: kernel and initrd paths on the host.
    public var kernel: String?
    public var initrd: String?
    public var cmdline: String = "root=/dev/vda rw console=ttyS0,115200"
    /// The egg's `kvm-config.xml`.
    public var fragment: String?

    public static let defaultMemoryMiB = 1024
    public static let defaultVCPUs = 1

    public init(
        name: String,
        deploymentId: String,
        domainType: String,
        memoryMiB: Int? = nil,
        vcpus: Int? = nil,
        pool: String,
        network: String,
        consoleLogPath: String,
        kernel: String? = nil,
        initrd: String? = nil,
        fragment: String? = nil
    ) {
        self.name = name
        self.deploymentId = deploymentId
        self.domainType = domainType
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.pool = pool
        self.volumes = VolumePlan(instance: name)
        self.network = network
        self.consoleLogPath = consoleLogPath
        self.kernel = kernel
        self.initrd = initrd
        self.fragment = fragment
    }

    /// The deployment id in a domain's XML, when IceShelves defined it.
    public static func deploymentId(inDomainXML xml: String) -> String? {
        guard let doc = try? XMLDocument(xmlString: xml, options: []),
            let nodes = try? doc.nodes(forXPath: "/domain/metadata/*[local-name()='deployment']/@id"),
            let id = nodes.first?.stringValue
        else { return nil }
        return id
    }

    /// The MAC addresses of the domain's NICs.
    public static func macAddresses(inDomainXML xml: String) -> [String] {
        guard let doc = try? XMLDocument(xmlString: xml, options: []),
            let nodes = try? doc.nodes(forXPath: "/domain/devices/interface/mac/@address")
        else { return [] }
        return nodes.compactMap(\.stringValue)
    }

    public func xml() throws -> String {
        let doc = try XMLDocument(xmlString: defaultXML(), options: [])
        guard let root = doc.rootElement() else { throw LibvirtError(.invalid, "the default domain XML has no root") }
        if let fragment, !fragment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try merge(fragment, into: root)
        }
        if let memoryMiB {
            set(root, "memory", "\(memoryMiB)", unit: "MiB")
        } else if let minMemoryMiB, Self.memoryMiB(root) < minMemoryMiB {
            set(root, "memory", "\(minMemoryMiB)", unit: "MiB")
        }
        if let vcpus {
            set(root, "vcpu", "\(vcpus)")
        } else if let minVCPUs, Int(root.elements(forName: "vcpu").first?.stringValue ?? "") ?? 0 < minVCPUs {
            set(root, "vcpu", "\(minVCPUs)")
        }
        if memoryMiB != nil || minMemoryMiB != nil { for e in root.elements(forName: "currentMemory") { e.detach() } }
        return doc.xmlString(options: [.nodePrettyPrint])
    }

    private func merge(_ fragment: String, into root: XMLElement) throws {
        let frag: XMLDocument
        do {
            // libxml2 recovers from some errors while building a document: check well-formedness first.
            let parser = XMLParser(data: Data(fragment.utf8))
            guard parser.parse(), parser.parserError == nil else {  // on Linux, parse() may say true and still set the error
                throw LibvirtError(.invalid, parser.parserError.map { "\($0.localizedDescription)" } ?? "parse error")
            }
            frag = try XMLDocument(xmlString: fragment, options: [])
        } catch {
            throw LibvirtError(.invalid, "the egg's kvm-config.xml is not well-formed XML: \(error.localizedDescription)")
        }
        guard let top = frag.rootElement(), top.name == "domain" else {
            throw LibvirtError(.invalid, "the egg's kvm-config.xml must have <domain> as its root element")
        }
        for child in top.children ?? [] {
            guard let element = child as? XMLElement, let name = element.name else { continue }
            if Self.replaceable.contains(name) {
                for old in root.elements(forName: name) { old.detach() }
                root.addChild(element.copy() as! XMLElement)
            } else if name == "devices", let devices = root.elements(forName: "devices").first {
                for device in element.children ?? [] {
                    guard let d = device as? XMLElement else { continue }
                    devices.addChild(d.copy() as! XMLElement)
                }
            }
        }
    }

    /// The `<memory>` element in MiB (libvirt's default unit is KiB).
    static func memoryMiB(_ root: XMLElement) -> Int {
        guard let e = root.elements(forName: "memory").first, let v = Int(e.stringValue ?? "") else { return 0 }
        let unit = e.attribute(forName: "unit")?.stringValue ?? "KiB"
        switch unit {
        case "b", "bytes": return v >> 20
        case "KB": return v * 1000 >> 20
        case "k", "KiB": return v >> 10
        case "MB": return v * 1_000_000 >> 20
        case "M", "MiB": return v
        case "G", "GiB": return v << 10
        case "GB": return v * 1_000_000_000 >> 20
        default: return v >> 10
        }
    }

    private func set(_ root: XMLElement, _ name: String, _ value: String, unit: String? = nil) {
        for old in root.elements(forName: name) { old.detach() }
        let e = XMLElement(name: name, stringValue: value)
        if let unit { e.addAttribute(XMLNode.attribute(withName: "unit", stringValue: unit) as! XMLNode) }
        root.addChild(e)
    }

    func defaultXML() -> String {
        let e = XMLText.escape
        var os = "<type arch='x86_64' machine='q35'>hvm</type>"
        if let kernel {
            os += "<kernel>\(e(kernel))</kernel>"
            if let initrd { os += "<initrd>\(e(initrd))</initrd>" }
            os += "<cmdline>\(e(cmdline))</cmdline>"
        } else {
            os += "<boot dev='hd'/>"
        }
        return """
            <domain type='\(e(domainType))'>
              <name>\(e(name))</name>
              <description>IceShelves deployment \(e(deploymentId))</description>
              <metadata><iceshelves:deployment xmlns:iceshelves='\(Self.metadataNamespace)' id='\(e(deploymentId))'/></metadata>
              <memory unit='MiB'>\(Self.defaultMemoryMiB)</memory>
              <vcpu>\(Self.defaultVCPUs)</vcpu>
              <os>\(os)</os>
              <features><acpi/><apic/></features>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
                <disk type='volume' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source pool='\(e(pool))' volume='\(e(volumes.rootName))'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <disk type='volume' device='cdrom'>
                  <driver name='qemu' type='raw'/>
                  <source pool='\(e(pool))' volume='\(e(volumes.seedName))'/>
                  <target dev='sda' bus='sata'/>
                  <readonly/>
                </disk>
                <interface type='network'><source network='\(e(network))'/><model type='virtio'/></interface>
                <serial type='pty'><log file='\(e(consoleLogPath))' append='on'/><target port='0'/></serial>
                <console type='pty'><target type='serial' port='0'/></console>
                <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
              </devices>
            </domain>
            """
    }
}
