import Foundation
import IceShelvesDeploy

/// The line a VM prints on its first serial port when cloud-init is over (see docs/kvm-deployer.md):
///
///     ICESHELVES-CLOUD-INIT-DONE {"status": "done", "errors": [], …}
///
/// The JSON is `cloud-init status --format json`; the guest syncs its disks before printing it. The deployer reads the serial console log (a
/// volume in the pool, downloaded through a libvirt stream), so it needs no network path to the guest.
public enum CloudInitMarker {
    /// What the guest prints before the JSON.
    public static let prefix = "ICESHELVES-CLOUD-INIT-DONE "

    /// The last marker in the console output, or `nil` when cloud-init has not finished yet.
    public static func find(in console: [UInt8]) -> CloudInitStatus? {
        let text = String(decoding: console, as: UTF8.self)
        guard let range = text.range(of: prefix, options: .backwards) else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.firstIndex(where: \.isNewline) else { return nil }  // the line is not complete yet
        return parse(json: String(rest[..<end]))
    }

    /// The marker's JSON (`cloud-init status --format json`); recoverable errors count as errors, by level.
    public static func parse(json: String) -> CloudInitStatus {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return CloudInitStatus(outcome: .other("unreadable"), errors: [], detail: json)
        }
        let status = (object["extended_status"] as? String) ?? (object["status"] as? String) ?? "unknown"
        var errors = (object["errors"] as? [Any])?.map { "\($0)" } ?? []
        if let recoverable = object["recoverable_errors"] as? [String: Any] {
            for (level, list) in recoverable.sorted(by: { $0.key < $1.key }) {
                for e in (list as? [Any]) ?? [] { errors.append("\(level): \(e)") }
            }
        }
        let outcome: CloudInitStatus.Outcome =
            switch status {
            case "done": .done
            case "degraded done": .degraded
            case "error", "degraded error": .error
            default: .other(status)
            }
        return CloudInitStatus(outcome: outcome, errors: errors, detail: (object["detail"] as? String) ?? status)
    }
}
