/// The volumes of one VM, named after its instance: a qcow2 overlay on the base image, the
/// NoCloud seed, and the serial console log (kept in the pool so a remote deployer can read it).
public struct VolumePlan: Sendable, Equatable {
    public var instance: String
    public var rootName: String { "\(instance)-root.qcow2" }
    public var seedName: String { "\(instance)-seed.iso" }
    public var consoleName: String { "\(instance)-console.log" }
    public var all: [String] { [rootName, seedName, consoleName] }

    public init(instance: String) { self.instance = instance }

    /// The overlay's size: `requestedGB` (an override, else the egg's `min_disk_gb`) but never
    /// smaller than the base image.
    public static func rootCapacity(requestedGB: Int?, base: UInt64) -> UInt64 {
        let wanted = UInt64(max(0, requestedGB ?? 0)) << 30
        return max(wanted, base)
    }

    /// A qcow2 overlay whose backing store is the base image at `basePath`.
    public func rootXML(capacity: UInt64, basePath: String, baseFormat: String = "qcow2") -> String {
        """
        <volume>
          <name>\(XMLText.escape(rootName))</name>
          <capacity unit='bytes'>\(capacity)</capacity>
          <target><format type='qcow2'/></target>
          <backingStore><path>\(XMLText.escape(basePath))</path><format type='\(XMLText.escape(baseFormat))'/></backingStore>
        </volume>
        """
    }

    /// A raw volume of `bytes` bytes, to be filled by an upload.
    public static func rawXML(name: String, bytes: Int) -> String {
        """
        <volume>
          <name>\(XMLText.escape(name))</name>
          <capacity unit='bytes'>\(bytes)</capacity>
          <target><format type='raw'/></target>
        </volume>
        """
    }
}

/// XML text escaping for the hand-written documents here.
enum XMLText {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
