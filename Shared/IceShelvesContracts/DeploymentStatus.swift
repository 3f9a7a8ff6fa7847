/// A deployment's state, as the ledger keeps it and every event reports it.
///
/// The only legal moves are forwards along
/// `pending → rendering → queued → in_progress → completed | failed | cancelled | timeout`.
/// Steps may be skipped forwards (an event can overtake another), never taken backwards, and a
/// terminal state never changes. Any unfinished state may end as `failed`, `cancelled` or
/// `timeout`; only a rendered deployment can be `completed`.
public enum DeploymentStatus: String, Codable, Sendable, CaseIterable {
    /// Accepted by the gateway, not yet picked up by the renderer.
    case pending
    /// The renderer is rendering the egg.
    case rendering
    /// Rendered and waiting in the deployer's queue.
    case queued
    /// A deployer (or agent) is working on it.
    case inProgress = "in_progress"
    /// The instance is running and cloud-init has finished.
    case completed
    /// It failed; the event's message says why.
    case failed
    /// Someone cancelled it.
    case cancelled
    /// It did not finish in time.
    case timeout

    /// The position along the pipeline; every terminal state shares the last one.
    public var rank: Int {
        switch self {
        case .pending: 0
        case .rendering: 1
        case .queued: 2
        case .inProgress: 3
        case .completed, .failed, .cancelled, .timeout: 4
        }
    }

    /// `completed`, `failed`, `cancelled` or `timeout`: the state never changes again.
    public var isTerminal: Bool { rank == 4 }

    /// The states that never change again.
    public static let terminal: [DeploymentStatus] = allCases.filter(\.isTerminal)

    /// The states that are still moving (they count against a cluster's concurrency limit).
    public static let active: [DeploymentStatus] = allCases.filter { !$0.isTerminal }

    /// Whether a deployment in this state may move to `next`.
    public func canMove(to next: DeploymentStatus) -> Bool {
        guard !isTerminal, next != self else { return false }
        if next == .completed { return rank >= DeploymentStatus.rendering.rank }
        return next.rank > rank
    }
}
