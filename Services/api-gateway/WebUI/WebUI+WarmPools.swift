import Foundation
import Hummingbird

/// A cluster's warm pools on its page: what the lxd-deployer keeps ready (size, ready, hits,
/// misses, warnings), and for admins a form that sets the whole list, one pool per line as
/// `IMAGE=SIZE[@MEMBER] [profiles=P1,P2]` (the CLI's `--pool` syntax); an empty form removes every pool.
extension WebUI {
    func addWarmPools(to root: RouterGroup<GatewayContext>) {
        root.post("clusters/:id/warm-pools") { request, context in
            try await post(request, context) { v in
                let id = context.parameters.get("id") ?? ""
                let back = "/iceshelves/clusters/\(Self.escapePath(id))"
                let pools: [[String: Any]]
                do {
                    pools = try Self.warmPools(from: v.form.text("pools") ?? "")
                } catch let e as LineError {
                    return render("message", ["title": "Refused", "detail": e.message, "back": back], v.session, status: .badRequest)
                }
                let a = try await call(v, .put, "clusters/\(Self.escapePath(id))/warm-pools", json: ["warm_pools": pools])
                guard a.ok else { return refused(a, v, back: back) }
                return WebPage.redirect(back)
            }
        }
    }

    /// A line of the warm-pool form that is not `IMAGE=SIZE[@MEMBER]`.
    struct LineError: Error {
        var message: String
    }

    /// The form's lines as the API's `warm_pools` list (the API checks images, sizes, members and
    /// profiles): `IMAGE=SIZE[@MEMBER] [profiles=P1,P2]`.
    static func warmPools(from text: String) throws -> [[String: Any]] {
        try text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.prefix(100).map { line in
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let (pool, member) = words[0].split(separator: "@", maxSplits: 1).map(String.init).pair
            let parts = pool.split(separator: "=", maxSplits: 1).map(String.init)
            let profiles = words.dropFirst().first { $0.hasPrefix("profiles=") }.map {
                $0.dropFirst("profiles=".count).split(separator: ",").map(String.init)
            }
            guard parts.count == 2, !parts[0].isEmpty, let size = Int(parts[1]), words.count == (profiles == nil ? 1 : 2) else {
                throw LineError(message: "'\(line.prefix(80))' is not IMAGE=SIZE, IMAGE=SIZE@MEMBER or either followed by profiles=P1,P2")
            }
            var entry: [String: Any] = ["image": parts[0], "size": size]
            if let member { entry["member"] = member }
            if let profiles { entry["profiles"] = profiles }
            return entry
        }
    }

    /// The page's warm-pool section: rows from the deployer's status when it answered, else from
    /// the configuration, and the configuration as the form's text.
    static func warmPoolSection(_ cluster: [String: Any]) -> [String: Any]? {
        guard cluster["hypervisor"] as? String != "kvm", !["agent-poll", "libvirt"].contains(cluster["connection_method"] as? String ?? "")
        else { return nil }
        let configured = list(cluster["warm_pools"])
        let status = list(cluster["warm_pool_status"])
        let rows: [[String: Any]] = (status.isEmpty ? configured : status).map { p in
            [
                "image": p["image"] ?? "", "member": p["member"] ?? "any", "size": p["size"] ?? 0,
                "profiles": (p["profiles"] as? [Any]).map { $0.map { "\($0)" }.joined(separator: ", ") } ?? "default",
                "ready": p["ready"] ?? "–", "hits": p["hits"] ?? "–", "misses": p["misses"] ?? "–", "warning": p["warning"] ?? "",
            ]
        }
        let text = configured.map { p in
            let profiles = (p["profiles"] as? [Any] ?? []).map { "\($0)" }
            return "\(p["image"] ?? "")=\(p["size"] ?? 0)" + ((p["member"] as? String).map { "@\($0)" } ?? "")
                + (profiles.isEmpty ? "" : " profiles=" + profiles.joined(separator: ","))
        }.joined(separator: "\n")
        return ["rows": rows, "hasRows": !rows.isEmpty, "text": text]
    }
}

extension Array where Element == String {
    /// The first element and the second, if any.
    fileprivate var pair: (String, String?) { (first ?? "", count > 1 ? self[1] : nil) }
}
