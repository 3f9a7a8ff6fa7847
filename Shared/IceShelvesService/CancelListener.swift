import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Listens for `deployment.cancel` (`cancel.<id>`) on the events exchange, on a queue of its own that lives
/// with the connection, so every deployer process hears every cancel. The lxd-deployer and the
/// kvm-deployer each run one.
public struct CancelListener: Service {
    let service: ServiceName
    let bus: AMQPClient
    let cancels: CancelRegistry
    let logger: Logger

    /// - Parameter service: names the listener's queue (`<service>.cancel.<random>`).
    public init(service: ServiceName, bus: AMQPClient, cancels: CancelRegistry, logger: Logger) {
        self.service = service
        self.bus = bus
        self.cancels = cancels
        self.logger = logger
    }

    public func run() async throws {
        let queue = BusNames.cancelQueuePrefix(service) + UUID().uuidString.prefix(8).lowercased()
        try await bus.declare(.eventListener(queue, binding: BusNames.everyCancelBinding))
        let consumer = try await bus.consume(queue: queue, prefetch: 16)
        await withGracefulShutdownHandler {
            for await delivery in consumer.deliveries {
                bus.ack(delivery)
                guard let envelope = try? MessageCodec.decode(DeploymentCancel.self, from: delivery.body) else {
                    logger.warning("ignoring an unreadable cancel message")
                    continue
                }
                let id = envelope.payload.deploymentId
                let here = cancels.cancel(id)
                logger.info(
                    "cancel received",
                    metadata: ["deployment_id": "\(id)", "running_here": "\(here)", "reason": "\(envelope.payload.reason)"]
                )
            }
        } onGracefulShutdown: {
            bus.cancel(consumer)
        }
    }
}
