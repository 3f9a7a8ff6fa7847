import IceShelvesContracts

/// Status lists for SQL, made from ``DeploymentStatus`` so that no query spells a status by hand.
enum SQLStatus {
    /// `('completed', 'failed', …)`: the terminal states, as an SQL list.
    static let terminal = list(DeploymentStatus.terminal)
    /// The states still moving, as an SQL list.
    static let active = list(DeploymentStatus.active)

    private static func list(_ states: [DeploymentStatus]) -> String {
        "(" + states.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }
}
