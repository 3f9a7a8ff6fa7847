import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Hears `deployment.cancel`: a job no agent holds is dropped; a leased one is flagged, and our
/// agent receives a cancel command on its next poll. The original agent cannot cancel: what it
/// started runs on (docs/agent-installation.md).
struct CancelFollower: Service {
    let bus: AMQPClient
    let store: JobStore
    let signal: JobSignal
    let logger: Logger

    func run() async throws {
        let queue = BusNames.cancelQueuePrefix(.agentBroker) + UUID().uuidString.prefix(8).lowercased()
        try await bus.declare(.eventListener(queue, binding: BusNames.everyCancelBinding))
        let consumer = try await bus.consume(queue: queue, prefetch: 16)
        await withGracefulShutdownHandler {
            for await delivery in consumer.deliveries {
                bus.ack(delivery)
                guard let envelope = try? MessageCodec.decode(DeploymentCancel.self, from: delivery.body) else { continue }
                let id = envelope.payload.deploymentId
                do {
                    guard let state = try await store.requestCancel(id) else { continue }
                    if state == .leased, let job = try await store.get(id) { signal.signal(job.clusterId) }
                    logger.info("cancel received", metadata: ["deployment_id": "\(id)", "job_was": "\(state.rawValue)"])
                } catch {
                    logger.warning("cannot record a cancel", metadata: ["deployment_id": "\(id)", "error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            bus.cancel(consumer)
        }
    }
}
