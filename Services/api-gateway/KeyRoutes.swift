import Hummingbird

/// API keys (admin only): list, create (the key is shown once), revoke; and the audit log.
struct KeyRoutes {
    let gateway: Gateway

    struct Create: Decodable {
        var name: String
        var role: String
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("keys") { _, context -> Response in
            _ = try context.require(.admin)
            struct Keys: Encodable {
                var keys: [KeyStore.Listed]
                var total: Int
            }
            let keys = try await gateway.keys.list()
            return JSONBody.success(Keys(keys: keys, total: keys.count))
        }
        api.post("keys") { request, context -> Response in
            let who = try context.require(.admin)
            let body = try await JSONBody.read(Create.self, from: request, limit: 16 * 1024)
            guard let role = Role(rawValue: body.role) else { throw APIError.badRequest("role must be admin, operator or viewer") }
            let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...100).contains(name.unicodeScalars.count) else { throw APIError.badRequest("name must be 1 to 100 characters") }
            let created = try await gateway.keys.create(name: name, role: role, by: who.name)
            await gateway.audit.record(who, "key.create", target: created.id, detail: "\(name) (\(role.rawValue))")
            return JSONBody.raw(
                [
                    "success": true, "id": created.id, "key": created.key, "name": name, "role": role.rawValue,
                    "message": "store this key now: it is not shown again",
                ],
                status: .created
            )
        }
        api.delete("keys/:id") { _, context -> Response in
            let who = try context.require(.admin)
            let id = context.parameters.get("id") ?? ""
            guard id.count <= 64, try await gateway.keys.revoke(id: id) else { throw APIError.notFound("no active key \(id.prefix(64))") }
            await gateway.audit.record(who, "key.revoke", target: id)
            return JSONBody.raw(["success": true, "message": "key \(id) revoked"], status: .ok)
        }
        api.get("audit") { request, context -> Response in
            _ = try context.require(.admin)
            let p = try Pagination(request)
            let (entries, total) = try await gateway.audit.recent(limit: p.perPage, offset: (p.page - 1) * p.perPage)
            struct Audit: Encodable {
                var entries: [AuditLog.Entry]
                var total: Int
                var page: Int
            }
            return JSONBody.success(Audit(entries: entries, total: total, page: p.page))
        }
    }
}
