import IceShelvesContracts

/// Why a deployment failed, and at which step. A business failure: reported as a `failed`
/// event and acked, never retried by the bus.
public struct DeployFailure: Error, Sendable, CustomStringConvertible {
    public var step: EventStep
    public var message: String
    /// Whether the instance (if any) is ours to remove. `false` when the name belongs to
    /// something IceShelves did not create for this deployment.
    public var mayCleanUp: Bool = true

    public init(step: EventStep, message: String, mayCleanUp: Bool = true) {
        self.step = step
        self.message = message
        self.mayCleanUp = mayCleanUp
    }

    public var description: String { "\(step.rawValue): \(message)" }
}
