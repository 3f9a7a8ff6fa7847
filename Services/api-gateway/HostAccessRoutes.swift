import Foundation
import Hummingbird
import IceShelvesContracts
import IceShelvesEggs

/// How an admin allows host-level power (``HostAccessGuard``): a per-cluster allow-list, and
/// reviews of egg versions whose LXD profile needs it.
struct HostAccessRoutes: Sendable {
    let gateway: Gateway

    struct Allow: Decodable {
        var allow: [String]
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.put("clusters/:id/host-access") { request, context -> Response in
            let who = try context.require(.admin)
            let c = try await ClusterRoutes(gateway: gateway).cluster(context)
            let body = try await JSONBody.read(Allow.self, from: request, limit: gateway.settings.maxBodyBytes)
            guard body.allow.count <= 64 else { throw APIError.badRequest("allow takes at most 64 entries") }
            for entry in body.allow where !HostAccess.isKnownAllowEntry(entry) {
                throw APIError.badRequest(
                    "'\(entry.prefix(80))' is not a host-access key: name a config key such as security.nesting or raw.lxc (or raw.*), or a device type such as devices.disk"
                )
            }
            try await gateway.clusters.setHostAccess(c.id, allow: body.allow)
            await gateway.audit.record(who, "cluster.host_access", target: "cluster \(c.id)", detail: body.allow.sorted().joined(separator: ","))
            return JSONBody.raw(["success": true, "cluster_id": c.id, "host_access_allow": body.allow.sorted()], status: .ok)
        }
        api.post("eggs/:id/review") { request, context -> Response in
            let who = try context.require(.admin)
            // ?version= names a version or content hash; the current version by default.
            let version = request.uri.queryParameters["version"].map(String.init)
            let egg = try await EggRoutes(gateway: gateway).egg(context.parameters.get("id") ?? "", version: version)
            try await gateway.reviews.review(egg: egg.egg.name, contentHash: egg.egg.contentHash, by: who.name)
            await gateway.audit.record(
                who,
                "egg.review",
                target: egg.egg.name,
                detail: "version \(egg.egg.version) \(egg.egg.contentHash.prefix(12))"
            )
            return JSONBody.raw(
                [
                    "success": true, "egg": egg.egg.name, "version": egg.egg.version, "content_hash": egg.egg.contentHash, "reviewed": true,
                    "message": "egg \(egg.egg.name) \(egg.egg.version) may use host access from its LXD profile",
                ],
                status: .ok
            )
        }
        api.delete("eggs/:id/review") { request, context -> Response in
            let who = try context.require(.admin)
            let version = request.uri.queryParameters["version"].map(String.init)
            let egg = try await EggRoutes(gateway: gateway).egg(context.parameters.get("id") ?? "", version: version)
            guard try await gateway.reviews.withdraw(egg: egg.egg.name, contentHash: egg.egg.contentHash) else {
                throw APIError.notFound("egg \(egg.egg.name) \(egg.egg.version) has no review")
            }
            await gateway.audit.record(who, "egg.review_withdrawn", target: egg.egg.name, detail: "version \(egg.egg.version)")
            return JSONBody.raw(["success": true, "egg": egg.egg.name, "version": egg.egg.version, "reviewed": false], status: .ok)
        }
    }
}
