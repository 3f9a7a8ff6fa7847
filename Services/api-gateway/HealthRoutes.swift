import Foundation
import GRDB
import Hummingbird
import NIOCore

/// `GET /iceshelves/healthz` (no key; 503 when degraded), `GET /iceshelves/metrics` and the OpenAPI description.
struct HealthRoutes {
    let gateway: Gateway

    /// The OpenAPI 3.1 description (written by scripts/openapi.py), served at `/iceshelves/api/openapi.json`.
    static let openAPI: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else { return Array("{}".utf8) }
        return Array(data)
    }()

    func add(to group: RouterGroup<GatewayContext>) {
        group.get("healthz") { _, _ -> Response in
            let database = (try? await gateway.ledger.db.writer.read { try Int.fetchOne($0, sql: "SELECT 1") }) == 1
            let bus = gateway.busConnected()
            let healthy = database && bus
            return JSONBody.raw([
                "status": healthy ? "healthy" : "degraded",
                "timestamp": Timestamp.now(),
                "version": "0.1.0",
                "database": database ? "ok" : "error",
                "dependencies": ["amqp": bus ? "connected" : "disconnected"],
            ], status: healthy ? .ok : .serviceUnavailable)
        }
        group.get("api/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: Self.openAPI)))
        }
        group.get("metrics") { _, context -> Response in
            _ = try context.require(.viewer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: gateway.metricsText())))
        }
    }
}
