import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Once a second: wakes the long-polls of clusters whose job lease ran out (so the job is
/// handed out again at once), and marks silent clusters `inactive`.
struct Sweeper: Service {
    let store: JobStore
    let signal: JobSignal
    let health: ClusterHealth
    let logger: Logger
    var every: Duration = .seconds(1)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                for cluster in try await store.clustersWithExpiredLeases() { signal.signal(cluster) }
            } catch {
                logger.warning("lease sweep failed", metadata: ["error": "\(error)"])
            }
            health.sweep()
            try? await Task.sleep(for: every)  // cancelled on shutdown: the loop then ends
            if Task.isCancelled { break }
        }
    }
}
