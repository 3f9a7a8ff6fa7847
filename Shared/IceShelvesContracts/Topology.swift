/// Every exchange, queue and routing key the services agree on, named once.
/// `docs/messages.md` describes each.
public enum BusNames {
    // MARK: Exchanges

    /// Direct exchange that receives rejected messages; each work queue `Q` dead-letters to `Q.dlq`.
    public static let deadLetterExchange = "iceshelves.dlx"
    /// Topic exchange for deployment progress (`deployment.<id>.<status>`) and cancels (`cancel.<id>`).
    public static let eventsExchange = "iceshelves.events"

    // MARK: Queues

    /// The renderer's work queue (gateway → renderer), of ``DeploymentRequested``.
    public static let renderQueue = "deploy.render"
    /// A deployer's work queue (renderer → deployer), of ``DeploymentRendered``.
    public static func deployQueue(_ target: TargetType) -> String { "deploy.\(target.rawValue)" }
    /// The agent-broker's work queue (renderer → broker) of ``DeploymentRendered`` jobs for
    /// agent-poll clusters (``DeploymentTarget/viaAgent``), LXD and KVM alike.
    public static let agentQueue = "deploy.agent"
    /// Where the renderer sends a rendered job: the agent-broker for an agent-poll cluster, else the target's deployer.
    public static func jobQueue(_ target: TargetType, viaAgent: Bool) -> String { viaAgent ? agentQueue : deployQueue(target) }
    /// The gateway's durable queue of cluster health changes (``ClusterStatusChanged``).
    public static let gatewayClusterStatusQueue = "api-gateway.cluster-status"
    /// The gateway's durable queue of every deployment's progress.
    public static let gatewayEventsQueue = "api-gateway.events"
    /// The prefix of a deployer's exclusive cancel queue (`<service>.cancel.<random>`).
    public static func cancelQueuePrefix(_ service: ServiceName) -> String { "\(service.rawValue).cancel." }
    /// The queue on which a service answers RPC requests.
    public static func rpcQueue(_ service: ServiceName) -> String { "rpc.\(service.rawValue)" }
    /// The exclusive queue of one catalogue instance, where the chunks of an upload it holds go.
    public static func uploadQueue(instance: String) -> String { "\(ServiceName.eggCatalog.rawValue).upload.\(instance)" }
    /// The job queues: quorum queues with a delivery limit (``defaultDeliveryLimit``), whose
    /// dead letters the gateway keeps and reports (`GET /api/admin/dead-letters`).
    public static var jobQueues: [String] { [renderQueue] + TargetType.allCases.map(deployQueue) + [agentQueue] }
    /// How often the broker hands out a job whose consumer never settles it (it crashed, or its
    /// connection died) before it dead-letters the job (reason `delivery_limit`).
    public static let defaultDeliveryLimit = 5
    /// The suffix of a work queue's dead-letter queue.
    public static let deadLetterSuffix = ".dlq"
    /// The RabbitMQ pseudo-queue for direct reply-to, used by RPC clients.
    public static let directReplyTo = "amq.rabbitmq.reply-to"

    // MARK: Routing keys

    /// The routing key of a deployment's progress event.
    public static func progressKey(deploymentId: String, status: DeploymentStatus) -> String {
        "deployment.\(routingSafe(deploymentId)).\(status.rawValue)"
    }
    /// Binds to every deployment's progress, whatever its status.
    public static let everyProgressBinding = "deployment.*.*"
    /// Binds to one deployment's progress, whatever its status.
    public static func progressBinding(deploymentId: String) -> String { "deployment.\(routingSafe(deploymentId)).*" }
    /// The routing key of a deployment's cancel.
    public static func cancelKey(deploymentId: String) -> String { "cancel.\(routingSafe(deploymentId))" }
    /// The routing key of a cluster's health change (``ClusterStatusChanged``).
    public static func clusterStatusKey(clusterId: String) -> String { "cluster.\(routingSafe(clusterId)).status" }
    /// Binds to every cluster's health changes.
    public static let everyClusterStatusBinding = "cluster.*.status"
    /// Binds to every cancel.
    public static let everyCancelBinding = "cancel.*"

    // MARK: Headers

    /// The header that counts how often a work message was retried after a handler error.
    public static let attemptsHeader = "x-iceshelves-attempts"
    /// The header that says why a message was dead-lettered by a consumer.
    public static let deadReasonHeader = "x-iceshelves-dead-reason"
    /// The header that counts how often an admin put a dead-lettered job back on its queue.
    public static let requeuesHeader = "x-iceshelves-requeues"
    /// The header a quorum queue sets on a redelivered message: how often it was returned before
    /// (RabbitMQ 3.10 does not keep it on the dead letter).
    public static let deliveryCountHeader = "x-delivery-count"
    /// The header the broker sets when it dead-letters a message: `delivery_limit`, `rejected`, `expired`, `maxlen`.
    public static let firstDeathReasonHeader = "x-first-death-reason"
    /// The header the broker sets when it dead-letters a message: the queue it came from.
    public static let firstDeathQueueHeader = "x-first-death-queue"
    /// Headers the broker adds when it dead-letters a message (removed when a job is requeued).
    public static let brokerDeathHeaders = [
        "x-death", "x-first-death-reason", "x-first-death-queue", "x-first-death-exchange", "x-last-death-reason", "x-last-death-queue",
        "x-last-death-exchange",
    ]

    /// A deployment id as one routing-key word (no `.`, `*` or `#`).
    static func routingSafe(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }
}
