import Hummingbird
import IceShelvesBus
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The service's HTTP side door: `GET /healthz` (liveness: 200, or 503 while the broker is
/// unreachable) and `GET /metrics` (Prometheus text). It binds to loopback by default.
enum HealthEndpoint {
    static func make(
        service: String,
        host: String,
        port: Int,
        client: AMQPClient,
        registry: PrometheusCollectorRegistry,
        logger: Logger
    ) -> any Service {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            let connected = client.isConnected
            let body =
                #"{"service":"\#(service)","status":"\#(connected ? "ok" : "degraded")","amqp":"\#(connected ? "connected" : "disconnected")"}"#
            return Response(
                status: connected ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: service),
            onServerRunning: { channel in
                logger.info("health and metrics endpoint listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: logger
        )
    }
}
