import IceShelvesBus
import IceShelvesContracts
import Logging

/// Where a deployer gets a cluster's connection (its secrets included): jobs name the cluster
/// only. Keep the answer in memory for the job, and never log it.
public protocol ConnectionSource: Sendable {
    func connection(clusterId: String, deploymentId: String?, purpose: ClusterConnectionRequest.Purpose) async throws -> ClusterConnection
}

/// Asks the gateway, which keeps the sealed secrets, with a `cluster.connection` RPC.
///
/// A gateway that does not answer (restarting, say) is asked again with backoff for up to
/// `patience`; an answer that refuses (unknown cluster, a caller it does not trust) is final.
public struct GatewayConnectionSource: ConnectionSource {
    let bus: AMQPClient
    let patience: Duration
    let logger: Logger

    public init(bus: AMQPClient, patience: Duration = .seconds(60), logger: Logger) {
        self.bus = bus
        self.patience = patience
        self.logger = logger
    }

    public func connection(
        clusterId: String,
        deploymentId: String?,
        purpose: ClusterConnectionRequest.Purpose
    ) async throws -> ClusterConnection {
        let request = ClusterConnectionRequest(clusterId: clusterId, deploymentId: deploymentId, purpose: purpose)
        let deadline = ContinuousClock.now + patience
        var pause = Duration.milliseconds(250)
        while true {
            do {
                let reply = try await bus.call(
                    Envelope(request, deploymentId: deploymentId),
                    service: .apiGateway,
                    expecting: ClusterConnectionGrant.self,
                    timeout: .seconds(10)
                )
                return reply.payload.connection
            } catch let e as RPCError where e.code != "internal" && e.code != "unavailable" {
                throw e
            } catch {
                guard ContinuousClock.now + pause < deadline else { throw error }
                logger.warning(
                    "the gateway did not give cluster \(clusterId)'s connection; asking again",
                    metadata: ["error": "\(error)", "retry_in": "\(pause)"]
                )
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }
}
