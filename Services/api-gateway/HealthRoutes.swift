import Foundation
import GRDB
import Hummingbird
import NIOCore

/// `GET /iceshelves/healthz` (no key; 503 when degraded) and `GET /iceshelves/metrics`.
struct HealthRoutes {
    let gateway: Gateway

    func add(to group: RouterGroup<GatewayContext>) {
        group.get("healthz") { _, _ -> Response in
            let database = (try? gateway.ledger.db.writer.read { try Int.fetchOne($0, sql: "SELECT 1") }) == 1
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
        group.get("metrics") { _, context -> Response in
            _ = try context.require(.viewer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: gateway.metricsText())))
        }
    }
}
