import Foundation
import Hummingbird

/// Webhooks (admin): register (the signing secret is shown once), list, delete, and each
/// webhook's deliveries with their attempts.
struct WebhookRoutes {
    let gateway: Gateway

    struct Create: Decodable {
        var url: String
        var events: [String]?
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("webhooks") { _, context -> Response in
            _ = try context.require(.admin)
            struct List: Encodable {
                var webhooks: [Webhooks.Hook]
                var total: Int
            }
            let hooks = try await gateway.webhooks.list()
            return JSONBody.success(List(webhooks: hooks, total: hooks.count))
        }
        api.post("webhooks") { request, context -> Response in
            let who = try context.require(.admin)
            let body = try await JSONBody.read(Create.self, from: request, limit: 16 * 1024)
            guard body.url.unicodeScalars.count <= 2048, let u = URLComponents(string: body.url), ["http", "https"].contains(u.scheme ?? ""),
                !(u.host ?? "").isEmpty
            else {
                throw APIError.badRequest("url must be an http or https URL")
            }
            try gateway.settings.hosts.check(u.host ?? "", field: "url")
            let events = body.events ?? Webhooks.events
            guard !events.isEmpty, events.allSatisfy(Webhooks.events.contains) else {
                throw APIError.badRequest("events must be some of \(Webhooks.events.joined(separator: ", "))")
            }
            do {
                _ = try EgressGuard(policy: gateway.settings.hosts).resolve(host: u.host ?? "", port: u.port ?? (u.scheme == "https" ? 443 : 80))
            } catch {
                throw APIError.forbidden("url: \(error)")
            }
            let (id, secret) = try await gateway.webhooks.create(url: body.url, events: events)
            await gateway.audit.record(who, "webhook.create", target: "webhook \(id)", detail: body.url)
            return JSONBody.raw(
                [
                    "success": true, "id": id, "url": body.url, "events": events, "secret": secret,
                    "message":
                        "deliveries are signed: X-IceShelves-Signature = t=<X-IceShelves-Timestamp>,sha256=<hex HMAC-SHA256(secret, timestamp + \".\" + body)>; store the secret now",
                ],
                status: .created
            )
        }
        api.delete("webhooks/:id") { _, context -> Response in
            let who = try context.require(.admin)
            guard let id = Int64(context.parameters.get("id") ?? ""), try await gateway.webhooks.delete(id) else {
                throw APIError.notFound("no such webhook")
            }
            await gateway.audit.record(who, "webhook.delete", target: "webhook \(id)")
            return JSONBody.raw(["success": true, "message": "webhook \(id) deleted"], status: .ok)
        }
        api.get("webhooks/:id/deliveries") { _, context -> Response in
            _ = try context.require(.admin)
            guard let id = Int64(context.parameters.get("id") ?? ""), try await gateway.webhooks.list().contains(where: { $0.id == id }) else {
                throw APIError.notFound("no such webhook")
            }
            struct List: Encodable {
                var deliveries: [Webhooks.Delivery]
                var total: Int
            }
            let d = try await gateway.webhooks.deliveries(webhookId: id, limit: 100)
            return JSONBody.success(List(deliveries: d, total: d.count))
        }
    }
}
