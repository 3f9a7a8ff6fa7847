import Synchronization

/// How many deployments this process works on right now. Filling a warm pool waits while any
/// does, so filling never competes with a deployment for LXD's image unpacking.
final class DeployActivity: Sendable {
    private let running = Atomic<Int>(0)

    func begin() { running.add(1, ordering: .relaxed) }
    func end() { running.subtract(1, ordering: .relaxed) }
    var isIdle: Bool { running.load(ordering: .relaxed) == 0 }
}
