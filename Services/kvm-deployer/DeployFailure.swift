import IceShelvesContracts

/// Why a deployment failed, and at which step. A business failure: reported as a `failed`
/// event and acked, never retried by the bus.
struct DeployFailure: Error, Sendable, CustomStringConvertible {
    var step: EventStep
    var message: String
    /// Whether the instance (if any) is ours to remove. `false` when the name belongs to
    /// something IceShelves did not create for this deployment.
    var mayCleanUp: Bool = true

    var description: String { "\(step.rawValue): \(message)" }
}
