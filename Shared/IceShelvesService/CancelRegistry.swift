import Synchronization

/// The deployments this process is working on, so a `deployment.cancel` can stop one, and the
/// recent cancels of deployments not (yet) here, so a job that arrives after its cancel is skipped.
public final class CancelRegistry: Sendable {
    private struct State {
        var running: [String: @Sendable () -> Void] = [:]
        var cancelledEarly: [String] = []
    }

    private let state = Mutex(State())
    private static let remembered = 1000

    public init() {}

    public func register(_ deploymentId: String, cancel: @escaping @Sendable () -> Void) {
        state.withLock { $0.running[deploymentId] = cancel }
    }

    public func unregister(_ deploymentId: String) {
        _ = state.withLock { $0.running.removeValue(forKey: deploymentId) }
    }

    /// Cancels the deployment if it runs here, or remembers the cancel for when its job comes.
    /// Returns `true` when it was running here.
    @discardableResult
    public func cancel(_ deploymentId: String) -> Bool {
        let running: (@Sendable () -> Void)? = state.withLock { s in
            if let c = s.running[deploymentId] { return c }
            s.cancelledEarly.append(deploymentId)
            if s.cancelledEarly.count > Self.remembered { s.cancelledEarly.removeFirst(s.cancelledEarly.count - Self.remembered) }
            return nil
        }
        running?()
        return running != nil
    }

    /// `true` when a cancel for this deployment came before its job.
    public func wasCancelled(_ deploymentId: String) -> Bool {
        state.withLock { $0.cancelledEarly.contains(deploymentId) }
    }
}
