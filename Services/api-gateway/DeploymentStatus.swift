/// The ledger's states and the only legal moves between them:
/// `pending → rendering → queued → in_progress → completed | failed | cancelled | timeout`.
/// Any unfinished state may also end as `failed`, `cancelled` or `timeout`; steps may be skipped
/// forwards (an event can overtake another), never backwards; a final state never changes.
enum DeploymentStatus: String, Codable, Sendable, CaseIterable {
    case pending, rendering, queued
    case inProgress = "in_progress"
    case completed, failed, cancelled, timeout

    private var order: Int {
        switch self {
        case .pending: 0
        case .rendering: 1
        case .queued: 2
        case .inProgress: 3
        case .completed, .failed, .cancelled, .timeout: 4
        }
    }

    var isFinal: Bool { order == 4 }

    /// Counts against `MAX_CONCURRENT_DEPLOYMENTS`.
    var isActive: Bool { !isFinal }

    func canMove(to next: DeploymentStatus) -> Bool {
        guard !isFinal, next != self else { return false }
        if next == .completed { return self == .inProgress || self == .queued || self == .rendering }
        return next.order > order
    }
}
