import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

extension HostAccess {
    /// Allow-list entries for KVM domain fragments.
    static let kvmKeys: Set<String> = [
        "devices.hostdev", "devices.filesystem", "devices.disk", "devices.interface", "devices.redirdev", "devices.smartcard",
        "devices.chardev", "security.seclabel",
    ]

    /// What in an egg's `kvm-config.xml` reaches the host: PCI/USB passthrough (`hostdev`),
    /// host folders (`filesystem`), disks from host paths, NICs bound to host devices
    /// (`direct`, `hostdev`, `ethernet`), USB redirection, smartcard passthrough, character
    /// devices on host files, pipes or sockets, sVirt switched off (`seclabel type='none'`) and
    /// raw QEMU arguments. An XML that cannot be read is left to the deployer, which refuses it.
    public static func findings(kvmFragment xml: String, origin: String) -> [Finding] {
        let parser = XMLParser(data: Data(xml.utf8))
        let scan = FragmentScan(origin: origin)
        parser.delegate = scan
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        _ = parser.parse()
        return scan.found
    }
}

/// Walks the fragment and notes what reaches the host.
private final class FragmentScan: NSObject, XMLParserDelegate {
    let origin: String
    var found: [HostAccess.Finding] = []
    private var path: [String] = []
    private var diskType: String?

    init(origin: String) { self.origin = origin }

    private func note(_ key: String, _ detail: String) {
        guard !found.contains(where: { $0.key == key && $0.detail == detail }) else { return }
        found.append(HostAccess.Finding(key: key, origin: origin, detail: detail))
    }

    func parser(
        _ parser: XMLParser,
        didStartElement name: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let parent = path.last
        let inDevices = path.count == 2 && path[1] == "devices"
        if path.count == 1 && (name.hasPrefix("qemu:") || name == "commandline") { note("raw.qemu", "<\(name)> (raw QEMU arguments)") }
        if name == "seclabel", attributes["type"] == "none" { note("security.seclabel", "<seclabel type='none'> (no sVirt confinement)") }
        if inDevices {
            switch name {
            case "hostdev": note("devices.hostdev", "<hostdev> (a host device passed through)")
            case "filesystem": note("devices.filesystem", "<filesystem> (a host folder shared)")
            case "redirdev": note("devices.redirdev", "<redirdev> (USB redirection)")
            case "smartcard" where attributes["mode"] == "passthrough": note("devices.smartcard", "<smartcard mode='passthrough'>")
            case "interface" where ["direct", "hostdev", "ethernet"].contains(attributes["type"] ?? ""):
                note("devices.interface", "<interface type='\(attributes["type"] ?? "")'> (bound to a host device)")
            case "serial", "console", "channel",
                "parallel"
            where ["dev", "file", "pipe", "unix", "tcp", "udp"].contains(attributes["type"] ?? ""):
                note("devices.chardev", "<\(name) type='\(attributes["type"] ?? "")'> (a host file, device or socket)")
            case "disk": diskType = attributes["type"]
            default: break
            }
        }
        if parent == "disk", path.count == 3, name == "source", attributes["file"] != nil || attributes["dev"] != nil || attributes["dir"] != nil {
            let target = attributes["file"] ?? attributes["dev"] ?? attributes["dir"] ?? ""
            note("devices.disk", "<disk type='\(diskType ?? "")'> from the host's \(target.prefix(80))")
        }
        path.append(name)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if !path.isEmpty { path.removeLast() }
    }
}
