/// `deployment.event`: progress of one deployment, on the `iceshelves.events` topic exchange
/// with routing key `deployment.<id>.<status>` (``BusNames/progressKey(deploymentId:status:)``).
///
/// Publishers send events in the order things happen; the gateway's ledger numbers the events
/// it records (``DeploymentProgress/seq``) and never lets a deployment's status move backwards.
public struct DeploymentEvent: BusMessage, Equatable {
    public static let messageType = "deployment.event"
    public static let messageVersion = 1
    /// The status the deployment reached.
    public var status: DeploymentStatus
    /// The step this event is about.
    public var step: EventStep
    public var level: LogLevel
    public var message: String
    /// For `completed`: the instance's facts (addresses, member, …); otherwise extra context.
    public var details: [String: String]

    public init(status: DeploymentStatus, step: EventStep, level: LogLevel = .info, message: String, details: [String: String] = [:]) {
        self.status = status
        self.step = step
        self.level = level
        self.message = message
        self.details = details
    }

    /// The detail of an `accept` event that tells how long the deployer may take (seconds): the
    /// gateway's timeout never cuts a deployer's own budget short.
    public static let budgetKey = "budget_seconds"

    /// This event's routing key for a deployment.
    public func routingKey(deploymentId: String) -> String {
        BusNames.progressKey(deploymentId: deploymentId, status: status)
    }
}
