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
                guard DeploymentStatus(rawValue: s) != nil else {
                    throw APIError.badRequest("status must be one of \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.status = s
            }
            if let c = q["cluster_id"].map(String.init) {
                guard let id = Int64(c) else { throw APIError.badRequest("cluster_id must be an integer") }
                filter.clusterId = id
            }
            if let e = q["egg_id"].map(String.init) {
                if let id = Int64(e) { filter.eggId = id } else { filter.eggName = e }
            }
            let (items, total) = try gateway.ledger.list(filter, page: p.page, perPage: p.perPage)
            return JSONBody.success(Listed(deployments: items, total: total, page: p.page, perPage: p.perPage, totalPages: p.totalPages(total)))
        }
        api.get("deployments/:id") { _, context -> Response in
            _ = try context.require(.viewer)
            let id = context.parameters.get("id") ?? ""
            guard id.utf8.count <= 64, let (d, logs, clusterName) = try gateway.ledger.detail(id) else { throw APIError.notFound("no deployment \(id.prefix(64))") }
            return JSONBody.success(Detail(deployment: d, egg: .init(id: d.eggId, name: d.eggName), cluster: .init(id: d.clusterId, name: clusterName ?? "(deleted)"),
                                           logs: logs))
        }
        api.get("deployments/:id/logs") { _, context -> Response in
            _ = try context.require(.viewer)
            let d = try deployment(context)
            struct Logs: Encodable { var deploymentId: String; var logs: [Ledger.LogEntry]
                enum CodingKeys: String, CodingKey { case logs; case deploymentId = "deployment_id" } }
            return JSONBody.success(Logs(deploymentId: d.id, logs: try gateway.ledger.logs(d.id)))
        }
        api.post("deployments/:id/cancel") { _, context -> Response in
            let who = try context.require(.operator)
            let d = try deployment(context)
            guard let status = DeploymentStatus(rawValue: d.status), !status.isFinal else {
                throw APIError.conflict("deployment \(d.id) is already \(d.status)")
            }
            try await gateway.pipeline.cancel(DeploymentCancel(deploymentId: d.id, reason: "cancelled by \(who.name)"))
            try gateway.ledger.apply(d.id, status: .cancelled, level: "WARNING", step: "cancel", message: "cancelled by \(who.name); the deployer stops and removes what it created")
            gateway.audit.record(who, "deployment.cancel", target: d.id)
            return JSONBody.raw(["success": true, "deployment_id": d.id, "status": "cancelled", "message": "deployment \(d.id) cancelled"], status: .ok)
        }
        api.post("deployments/:id/retry") { _, context -> Response in
            let who = try context.require(.operator)
            let d = try deployment(context)
            guard ["failed", "timeout", "cancelled"].contains(d.status) else { throw APIError.conflict("only a failed, timed-out or cancelled deployment can be retried; \(d.id) is \(d.status)") }
            guard var request = try gateway.ledger.request(d.id), let cluster = try gateway.clusters.get(d.clusterId),
                  let connection = try gateway.clusters.connection(for: cluster) else {
                throw APIError.conflict("deployment \(d.id) cannot be retried: its cluster is gone")
            }
            guard try gateway.ledger.activeCount(clusterId: cluster.id) < gateway.settings.maxConcurrentPerCluster else {
                throw APIError(.tooManyRequests, "cluster \(cluster.name) is at its limit of \(gateway.settings.maxConcurrentPerCluster) active deployments")
            }
            request.deploymentId = UUID().uuidString.lowercased()
            request.destination?.connection = connection
            try gateway.ledger.insert(id: request.deploymentId, request: request, eggId: d.eggId, clusterId: cluster.id, deployedBy: who.name, retryOf: d.id)
            try await gateway.pipeline.submit(request)
            gateway.audit.record(who, "deployment.retry", target: request.deploymentId, detail: "retry of \(d.id)")
            return JSONBody.raw(["success": true, "deployment_id": request.deploymentId, "retry_of": d.id, "instance_name": request.instanceName,
                                 "status": "pending", "message": "retry of \(d.id) accepted"], status: .created)
        }
        api.delete("deployments/:id/cleanup") { _, context -> Response in
            let who = try context.require(.operator)
            let d = try deployment(context)
            guard let status = DeploymentStatus(rawValue: d.status), status.isFinal else {
                throw APIError.conflict("deployment \(d.id) is \(d.status); cancel it first")
            }
            guard let cluster = try gateway.clusters.get(d.clusterId), let connection = try gateway.clusters.connection(for: cluster) else {
                throw APIError.conflict("deployment \(d.id) has no reachable cluster to clean up on")
            }
            let result = try await gateway.pipeline.cleanup(LXDCleanupRequest(connection: connection, instanceName: d.instanceName, deploymentId: d.id))
            try gateway.ledger.apply(d.id, status: status, level: "INFO", step: "cleanup", message: result.message)
            gateway.audit.record(who, "deployment.cleanup", target: d.id, detail: result.message)
            return JSONBody.raw(["success": true, "deployment_id": d.id, "removed": result.removed, "message": result.message], status: .ok)
        }
        api.get("deployments/:id/events") { request, context -> Response in
            _ = try context.require(.viewer)
            let d = try deployment(context)
            return sse(gateway.events.subscribe(deploymentId: d.id), request: request)
        }
        api.get("events") { request, context -> Response in
            _ = try context.require(.viewer)
            return sse(gateway.events.subscribe(), request: request)
        }
    }

    func deployment(_ context: GatewayContext) throws -> Ledger.Deployment {
        let id = context.parameters.get("id") ?? ""
        guard id.utf8.count <= 64, let d = try gateway.ledger.get(id) else { throw APIError.notFound("no deployment \(id.prefix(64))") }
        return d
    }

    /// `text/event-stream`: one `deployment` event per progress event, and a comment every 15 s.
    func sse(_ stream: AsyncStream<EventHub.Item>, request: Request) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": connected\n\n"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream<EventHub.Item?>.makeStream()
                group.addTask {
                    for await item in stream { tick.yield(item) }
                    tick.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(15))
                        tick.yield(nil)
                    }
                }
                for await item in ticks {
                    if let item {
                        let data: [String: Any] = ["deployment_id": item.deploymentId, "status": item.event.status, "step": item.event.step,
                                                   "level": item.event.level, "message": item.event.message, "details": item.event.details, "timestamp": item.timestamp]
                        let json = String(decoding: (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "event: deployment\ndata: \(json)\n\n"))
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
}
