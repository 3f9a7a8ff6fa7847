import Foundation
import GRDB
import Hummingbird
import IceShelvesContracts
import NIOCore

/// `GET /iceshelves/healthz` (no key; 503 when degraded), `GET /iceshelves/metrics` and the OpenAPI description.
struct HealthRoutes {
    let gateway: Gateway

    /// The OpenAPI 3.1 description (written by scripts/openapi.py), served at `/iceshelves/api/openapi.json`.
    static let openAPI: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array("{}".utf8)
        }
        return Array(data)
    }()

    func add(to group: RouterGroup<GatewayContext>) {
        group.get("healthz") { _, _ -> Response in
            let database = (try? await gateway.ledger.db.writer.read { try Int.fetchOne($0, sql: "SELECT 1") }) == 1
            let bus = gateway.busConnected()
            let healthy = database && bus
            return JSONBody.raw(
                [
                    "status": healthy ? "healthy" : "degraded",
                    "timestamp": Timestamp.now(),
                    "version": "0.1.0",
                    "database": database ? "ok" : "error",
                    "dependencies": ["amqp": bus ? "connected" : "disconnected"],
                ],
                status: healthy ? .ok : .serviceUnavailable
            )
        }
        group.get("api/services") { _, context -> Response in
            _ = try context.require(.viewer)
            return JSONBody.success(await servicesHealth(timeout: .seconds(2)))
        }
        group.get("api/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: Self.openAPI)))
        }
        group.get("metrics") { _, context -> Response in
            _ = try context.require(.viewer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: gateway.metricsText()))
            )
        }
    }

    /// Pings every service on the bus at once (the gateway too, through its own RPC queue).
    func servicesHealth(timeout: Duration) async -> ServicesHealth {
        let pipeline = gateway.pipeline
        let answers = await withTaskGroup(of: ServicesHealth.Service.self) { group in
            for service in ServicesHealth.busServices {
                group.addTask {
                    let start = ContinuousClock.now
                    do {
                        let pong = try await pipeline.ping(service, timeout: timeout)
                        return .init(
                            service: service,
                            up: true,
                            version: pong.version,
                            instanceId: pong.instanceId,
                            uptimeSeconds: pong.uptimeSeconds,
                            latencyMs: (ContinuousClock.now - start) / .milliseconds(1)
                        )
                    } catch {
                        return .init(service: service, up: false, error: "no answer within \(timeout)")
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let order = ServicesHealth.busServices
        return ServicesHealth(services: answers.sorted { order.firstIndex(of: $0.service)! < order.firstIndex(of: $1.service)! })
    }
}
