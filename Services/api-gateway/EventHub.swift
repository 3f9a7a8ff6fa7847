import Foundation
import IceShelvesContracts
import Synchronization

/// Fans deployment events out to live subscribers (the Server-Sent Events endpoints).
final class EventHub: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<DeploymentProgress>.Continuation]>([:])
    private let closed = Atomic<Bool>(false)

    /// A stream of events (of one deployment, or all); it ends when the caller stops reading.
    func subscribe(deploymentId: String? = nil) -> AsyncStream<DeploymentProgress> {
        let (stream, continuation) = AsyncStream<DeploymentProgress>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let id = UUID()
        subscribers.withLock { $0[id] = continuation }
        if closed.load(ordering: .acquiring) { continuation.finish() }
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        guard let deploymentId else { return stream }
        return AsyncStream { out in
            let task = Task {
                for await item in stream where item.deploymentId == deploymentId { out.yield(item) }
                out.finish()
            }
            out.onTermination = { _ in
                task.cancel()
                continuation.finish()
            }
        }
    }

    func publish(_ item: DeploymentProgress) {
        let all = subscribers.withLock { Array($0.values) }
        for c in all { c.yield(item) }
    }

    /// Ends every stream, and every stream opened later: the gateway is shutting down, and an
    /// open Server-Sent Events response would otherwise hold the HTTP server open forever.
    func finishAll() {
        closed.store(true, ordering: .releasing)
        let all = subscribers.withLock { Array($0.values) }
        for c in all { c.finish() }
    }

}
