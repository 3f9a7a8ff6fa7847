/// `deployment.cancel`: asks whichever deployer holds the deployment to stop and clean up.
/// Published on the events exchange with routing key `cancel.<id>` (``BusNames/cancelKey(deploymentId:)``).
public struct DeploymentCancel: BusMessage, Equatable {
    public static let messageType = "deployment.cancel"
    public static let messageVersion = 1
    public var deploymentId: String
    public var reason: String

    public init(deploymentId: String, reason: String) {
        self.deploymentId = deploymentId
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case deploymentId = "deployment_id"
    }

    /// `cancel.<id>` on the events exchange.
    public var routingKey: String { BusNames.cancelKey(deploymentId: deploymentId) }
}
