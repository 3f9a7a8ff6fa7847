import Foundation
import Hummingbird
import IceShelvesContracts
import NIOCore

/// The ledger over HTTP: list, get (with instance_info and logs), logs, cancel, retry, cleanup,
/// and live progress as Server-Sent Events.
struct DeploymentRoutes {
    let gateway: Gateway

    struct Listed: Encodable {
        var deployments: [Ledger.Deployment]
        var total: Int
        var page: Int
        var perPage: Int
        var totalPages: Int
        enum CodingKeys: String, CodingKey {
            case deployments, total, page
            case perPage = "per_page"
            case totalPages = "total_pages"
        }
    }

    struct Detail: Encodable {
        var deployment: Ledger.Deployment
        var egg: Ref
        var cluster: Ref
        var logs: [Ledger.LogEntry]

        struct Ref: Encodable {
            var id: Int64?
            var name: String
        }

        func encode(to encoder: any Encoder) throws {
            try deployment.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(egg, forKey: .egg)
            try c.encode(cluster, forKey: .cluster)
            try c.encode(logs, forKey: .logs)
        }
        enum Keys: String, CodingKey { case egg, cluster, logs }
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("deployments") { request, context -> Response in
            _ = try context.require(.viewer)
            let p = try Pagination(request)
            let q = request.uri.queryParameters
            var filter = Ledger.Filter()
            if let s = q["status"].map(String.init) {
                guard let status = DeploymentStatus(rawValue: s) else {
                    throw APIError.badRequest("status must be one of \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.status = status
            }
            if let c = q["cluster_id"].map(String.init) {
                guard let id = Int64(c) else { throw APIError.badRequest("cluster_id must be an integer") }
                filter.clusterId = id
            }
            if let e = q["egg_id"].map(String.init) {
                if let id = Int64(e) { filter.eggId = id } else { filter.eggName = e }
            }
            let (items, total) = try await gateway.ledger.list(filter, page: p.page, perPage: p.perPage)
            return JSONBody.success(Listed(deployments: items, total: total, page: p.page, perPage: p.perPage, totalPages: p.totalPages(total)))
        }
        api.get("deployments/:id") { _, context -> Response in
            _ = try context.require(.viewer)
            let id = context.parameters.get("id") ?? ""
            guard id.utf8.count <= 64 else { throw APIError.notFound("no deployment \(id.prefix(64))") }
            if let cached = gateway.deploymentCache.body(id) { return JSONBody.json(cached) }
            let ticket = gateway.deploymentCache.ticket()
            guard let (d, logs, clusterName) = try await gateway.ledger.detail(id) else { throw APIError.notFound("no deployment \(id.prefix(64))") }
            let detail = Detail(
                deployment: d,
                egg: .init(id: d.eggId, name: d.eggName),
                cluster: .init(id: d.clusterId, name: clusterName ?? "(deleted)"),
                logs: logs
            )
            guard let body = JSONBody.successBody(detail) else { throw APIError(.internalServerError, "cannot encode the deployment") }
            gateway.deploymentCache.store(id, ticket: ticket, body: body)
            return JSONBody.json(body)
        }
        api.get("deployments/:id/logs") { _, context -> Response in
            _ = try context.require(.viewer)
            let d = try await deployment(context)
            struct Logs: Encodable {
                var deploymentId: String
                var logs: [Ledger.LogEntry]
                enum CodingKeys: String, CodingKey {
                    case logs
                    case deploymentId = "deployment_id"
                }
            }
            return JSONBody.success(Logs(deploymentId: d.id, logs: try await gateway.ledger.logs(d.id)))
        }
        api.post("deployments/:id/cancel") { _, context -> Response in
            let who = try context.require(.operator)
            let d = try await deployment(context)
            guard !d.status.isTerminal else { throw APIError.conflict("deployment \(d.id) is already \(d.status.rawValue)") }
            let recorded = try await gateway.recorder.record(
                d.id,
                DeploymentEvent(
                    status: .cancelled,
                    step: .cancel,
                    level: .warning,
                    message: "cancelled by \(who.name); the deployer stops and removes what it created"
                )
            )
            guard let recorded, recorded.movedFrom != nil else {
                throw APIError.conflict("deployment \(d.id) is already \(recorded?.progress.status.rawValue ?? "gone")")
            }
            // The ledger says cancelled first; should this publish fail, the deployer's next event is answered with the cancel again.
            try await gateway.pipeline.cancel(DeploymentCancel(deploymentId: d.id, reason: "cancelled by \(who.name)"))
            await gateway.audit.record(who, "deployment.cancel", target: d.id)
            return JSONBody.raw(
                ["success": true, "deployment_id": d.id, "status": DeploymentStatus.cancelled.rawValue, "message": "deployment \(d.id) cancelled"],
                status: .ok
            )
        }
        api.post("deployments/:id/retry") { _, context -> Response in
            let who = try context.require(.operator)
            let d = try await deployment(context)
            guard d.status.isTerminal, d.status != .completed else {
                throw APIError.conflict("only a failed, timed-out or cancelled deployment can be retried; \(d.id) is \(d.status.rawValue)")
            }
            guard var request = try await gateway.ledger.request(d.id), let cluster = try await gateway.clusters.get(d.clusterId) else {
                throw APIError.conflict("deployment \(d.id) cannot be retried: its cluster is gone")
            }
            if who.role < .admin {  // the allow-list or the egg's review may have changed since
                let egg = try await EggRoutes(gateway: gateway).egg(request.eggName, version: request.eggContentHash ?? request.eggVersion)
                try await HostAccessGuard(reviews: gateway.reviews).check(
                    egg: egg,
                    overrides: request.destination?.configOverrides ?? [:],
                    cluster: cluster,
                    target: request.target
                )
            }
            request.deploymentId = UUID().uuidString.lowercased()
            // An agent-poll cluster's job goes to its agent through the agent-broker.
            request.destination?.viaAgent = cluster.method == .agentPoll
            try await gateway.submitter.submit([request], eggId: d.eggId, cluster: cluster, by: who, retryOf: d.id)
            return JSONBody.raw(
                [
                    "success": true, "deployment_id": request.deploymentId, "retry_of": d.id, "instance_name": request.instanceName,
                    "status": DeploymentStatus.pending.rawValue, "message": "retry of \(d.id) accepted",
                ],
                status: .created
            )
        }
        api.delete("deployments/:id/cleanup") { _, context -> Response in
            let who = try context.require(.operator)
            let d = try await deployment(context)
            guard d.status.isTerminal else { throw APIError.conflict("deployment \(d.id) is \(d.status.rawValue); cancel it first") }
            guard let cluster = try await gateway.clusters.get(d.clusterId) else {
                throw APIError.conflict("deployment \(d.id) has no reachable cluster to clean up on")
            }
            guard try gateway.clusters.connection(for: cluster) != nil else {
                throw APIError.conflict(
                    "cluster \(cluster.name) is agent-poll: IceShelves cannot reach it, and its agent does not remove instances; "
                        + "remove \(d.instanceName) on the hypervisor (\(cluster.manualRemoval(of: d.instanceName)))"
                )
            }
            let result = try await gateway.pipeline.removeInstance(of: d, on: cluster)
            try await gateway.recorder.record(d.id, DeploymentEvent(status: d.status, step: .cleanup, message: result.message))
            await gateway.audit.record(who, "deployment.cleanup", target: d.id, detail: result.message)
            return JSONBody.raw(["success": true, "deployment_id": d.id, "removed": result.removed, "message": result.message], status: .ok)
        }
        api.get("deployments/:id/events") { request, context -> Response in
            let who = try context.require(.viewer)
            let d = try await deployment(context)
            // Replays what the ledger has after Last-Event-ID (or ?after=N; from the first event
            // by default), then goes on live: subscribe first, so that nothing falls in between.
            let lastId =
                request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value ?? request.uri.queryParameters["after"].map(
                    String.init
                ) ?? "0"
            guard let after = Int64(lastId), after >= 0 else { throw APIError.badRequest("Last-Event-ID (or after) must be a seq: 0, 1, 2, …") }
            let live = gateway.events.subscribe(deploymentId: d.id)
            let history = try await gateway.ledger.progress(d.id, after: after)
            return sse(live, replaying: history, seen: [d.id: after], keyId: who.keyId)
        }
        api.get("events") { request, context -> Response in
            let who = try context.require(.viewer)
            return sse(gateway.events.subscribe(), keyId: who.keyId)
        }
    }

    func deployment(_ context: GatewayContext) async throws -> Ledger.Deployment {
        let id = context.parameters.get("id") ?? ""
        guard id.utf8.count <= 64, let d = try await gateway.ledger.get(id) else { throw APIError.notFound("no deployment \(id.prefix(64))") }
        return d
    }

    /// `text/event-stream`: one `deployment` event per recorded event (`id:` is its `seq`), and
    /// a comment every 15 s.
    ///
    /// `seen` gives, per deployment, the last `seq` the client has (its `Last-Event-ID`): a live
    /// event at or below it, or one the replayed history already had, is not sent again.
    func sse(
        _ stream: AsyncStream<DeploymentProgress>,
        replaying history: [DeploymentProgress] = [],
        seen: [String: Int64] = [:],
        keyId: String
    )
        -> Response
    {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": connected\n\n"))
            var sent = seen
            for item in history {
                try await writer.write(Self.event(item))
                sent[item.deploymentId] = item.seq
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream<DeploymentProgress?>.makeStream()
                group.addTask {
                    for await item in stream { tick.yield(item) }
                    tick.finish()
                }
                // A keep-alive comment every 15 s; the stream ends within a second of its key's revocation.
                let keys = gateway.keys
                group.addTask {
                    var seconds = 0
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        if keys.isRevoked(keyId) {
                            tick.finish()
                            return
                        }
                        seconds += 1
                        if seconds % 15 == 0 { tick.yield(nil) }
                    }
                }
                for await item in ticks {
                    if let item {
                        if let last = sent[item.deploymentId], item.seq <= last { continue }
                        try await writer.write(Self.event(item))
                        if !seen.isEmpty { sent[item.deploymentId] = item.seq }
                    } else {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// One Server-Sent Event: `event: deployment`, `id: <seq>`, `data: <DeploymentProgress>`.
    static func event(_ item: DeploymentProgress) -> ByteBuffer {
        let json = (try? JSONBody.encoder.encode(item)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "event: deployment\nid: \(item.seq)\ndata: \(json)\n\n")
    }
}
