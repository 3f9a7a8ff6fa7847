import Hummingbird
import IceShelvesContracts

/// Dead-lettered jobs (admin only): list them, put one back on its queue, or drop it.
struct DeadLetterRoutes: Sendable {
    let gateway: Gateway

    /// A dead letter as the API shows it: metadata only, never the job's body.
    struct Listed: Encodable {
        var id: String
        var queue: String
        var deploymentId: String?
        var deploymentStatus: String?
        var reason: String
        var detail: String
        var count: Int
        var requeues: Int
        var messageType: String?
        var deadAt: String

        enum CodingKeys: String, CodingKey {
            case id, queue, reason, detail, count, requeues
            case deploymentId = "deployment_id"
            case deploymentStatus = "deployment_status"
            case messageType = "message_type"
            case deadAt = "dead_at"
        }
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("admin/dead-letters") { request, context -> Response in
            _ = try context.require(.admin)
            let p = try Pagination(request)
            let (letters, total) = try await gateway.deadLetters.list(limit: p.perPage, offset: (p.page - 1) * p.perPage)
            var listed: [Listed] = []
            for d in letters { listed.append(try await self.listed(d)) }
            struct Page: Encodable {
                var deadLetters: [Listed]
                var total: Int
                var page: Int
                var perPage: Int
                enum CodingKeys: String, CodingKey {
                    case total, page
                    case deadLetters = "dead_letters"
                    case perPage = "per_page"
                }
            }
            return JSONBody.success(Page(deadLetters: listed, total: total, page: p.page, perPage: p.perPage))
        }
        api.post("admin/dead-letters/:id/requeue") { _, context -> Response in
            let who = try context.require(.admin)
            let letter = try await deadLetter(context)
            guard !letter.fromUntrustedPublisher else {
                throw APIError.conflict(
                    "job \(letter.id) came from a broker user that may not send jobs to \(letter.queue); requeueing it would send it as the gateway. Drop it"
                )
            }
            // Confirmed by the broker first, removed after: a gateway that dies in between leaves
            // the dead letter listed, and a second requeue is harmless (jobs are idempotent per deployment).
            do {
                try await gateway.pipeline.republish(letter.requeued)
            } catch {
                throw APIError(.serviceUnavailable, "the message broker did not take the job back on \(letter.queue): \(error)")
            }
            try await gateway.deadLetters.remove(letter.id)
            await gateway.audit.record(who, "dead_letter.requeue", target: letter.id, detail: "\(letter.queue) \(letter.deploymentId ?? "-")")
            let status = try await listed(letter).deploymentStatus
            var answer: [String: Any] = [
                "success": true, "id": letter.id, "queue": letter.queue, "requeued": true,
                "message": "job \(letter.id) is back on \(letter.queue)",
            ]
            if let d = letter.deploymentId { answer["deployment_id"] = d }
            if let status, let s = DeploymentStatus(rawValue: status), s.isTerminal {
                answer["deployment_status"] = status
                answer["message"] =
                    "job \(letter.id) is back on \(letter.queue); its deployment \(letter.deploymentId ?? "") is \(status) and stays so: a deployer that takes it up is told to stop. POST /api/deployments/\(letter.deploymentId ?? "")/retry runs the deployment again"
            }
            return JSONBody.raw(answer, status: .ok)
        }
        api.delete("admin/dead-letters/:id") { _, context -> Response in
            let who = try context.require(.admin)
            let letter = try await deadLetter(context)
            guard try await gateway.deadLetters.remove(letter.id) else { throw APIError.notFound("no dead letter \(letter.id)") }
            await gateway.audit.record(who, "dead_letter.drop", target: letter.id, detail: "\(letter.queue) \(letter.deploymentId ?? "-")")
            return JSONBody.raw(["success": true, "id": letter.id, "message": "dead letter \(letter.id) dropped"], status: .ok)
        }
    }

    func deadLetter(_ context: GatewayContext) async throws -> DeadLetter {
        let id = context.parameters.get("id") ?? ""
        guard id.count <= 64, let letter = try await gateway.deadLetters.get(id) else { throw APIError.notFound("no dead letter \(id.prefix(64))") }
        return letter
    }

    func listed(_ d: DeadLetter) async throws -> Listed {
        var status: String?
        if let id = d.deploymentId { status = try await gateway.ledger.get(id)?.status.rawValue }
        return Listed(
            id: d.id,
            queue: d.queue,
            deploymentId: d.deploymentId,
            deploymentStatus: status,
            reason: d.reason,
            detail: d.detail,
            count: d.count,
            requeues: d.requeues,
            messageType: d.messageType,
            deadAt: d.deadAt
        )
    }
}
