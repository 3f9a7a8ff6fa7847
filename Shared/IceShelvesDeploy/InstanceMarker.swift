import IceShelvesContracts

/// Config keys IceShelves writes on every instance it creates, so that a redelivered job, a
/// cleanup or a human can tell whose instance it is.
public enum InstanceMarker {
    public static let deploymentId = LXDInstancePlan.deploymentIdKey

    /// `true` when the instance was created by IceShelves for this deployment.
    public static func belongs(_ config: [String: String], to deploymentId: String) -> Bool {
        config[Self.deploymentId] == deploymentId
    }
}
