/// The events a webhook can subscribe to.
public enum WebhookEvent: String, Codable, Sendable, CaseIterable {
    /// A deployer started working on a deployment.
    case deploymentStarted = "deployment.started"
    /// A deployment completed: the instance runs and cloud-init finished.
    case deploymentCompleted = "deployment.completed"
    /// A deployment failed or timed out.
    case deploymentFailed = "deployment.failed"
    /// A cluster's health changed.
    case clusterStatusChanged = "cluster.status_changed"

    /// The webhook event a deployment's move from `previous` to `next` fires, if any.
    public static func forMove(from previous: DeploymentStatus, to next: DeploymentStatus) -> WebhookEvent? {
        switch next {
        case .inProgress where previous != .inProgress: .deploymentStarted
        case .completed: .deploymentCompleted
        case .failed, .timeout: .deploymentFailed
        default: nil
        }
    }
}
