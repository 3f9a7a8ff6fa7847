import Foundation
import Hummingbird
import IceShelvesContracts
import Logging
import NIOCore

/// Everything the routes need, built once by the command and by the router tests.
struct Gateway: Sendable {
    let keys: KeyStore
    /// Repeated authentication failures per address (429).
    let authThrottle: AuthThrottle
    /// Egg versions an admin reviewed for host access.
    let reviews: EggReviews
    let clusters: ClusterStore
    let ledger: Ledger
    let audit: AuditLog
    /// Dead-lettered jobs (``DeadLetterIngest``), for `/api/admin/dead-letters`.
    let deadLetters: DeadLetters
    let catalog: any EggCatalogClient
    let pipeline: any PipelineClient
    let events: EventHub
    let webhooks: Webhooks
    /// Records progress: the ledger, live subscribers, webhooks.
    let recorder: ProgressRecorder
    /// Submits deployments: limits, ledger, bus.
    let submitter: DeploymentSubmitter
    let settings: Settings
    let logger: Logger
    /// Whether the broker connection is up (for healthz).
    let busConnected: @Sendable () -> Bool
    /// Eggs from the catalogue, for 2 s (cleared by creates and uploads here).
    let eggCache = ReadCache<EggCacheEntry>(ttl: .seconds(2))
    /// Encoded egg pages (`GET /eggs`), for 2 s (cleared with ``eggCache``).
    let eggListCache = ReadCache<ByteBuffer>(ttl: .seconds(2))
    /// Encoded deployments (`GET /deployments/{id}`), never behind the ledger.
    let deploymentCache = DeploymentCache()
    /// Prometheus text for `/iceshelves/metrics`.
    let metricsText: @Sendable () -> [UInt8]

    enum EggCacheEntry: Sendable {
        case detail(EggDetail)
    }

    struct Settings: Sendable {
        var maxBodyBytes = 1 << 20
        var maxUploadBytes = 100 << 20
        var maxConcurrentPerCluster = 10
        var maxBatch = 50
        var hosts = HostPolicy(nil)
        /// Failed authentications per minute from one address before it gets 429 (0: off).
        var authFailureLimit = 20
        /// Accept `qemu+tcp://` KVM clusters (no authentication, no encryption): tests only.
        var allowInsecureLibvirt = false
        /// The agent-broker's URL for agents (`--agent-url`), shown in the web UI's agent install command.
        var agentURL = "http://127.0.0.1:8010"
    }

    /// Builds every part over one database: the stores, the ledger, the hub, webhooks, the recorder and the submitter.
    init(
        db: GatewayDatabase,
        box: SecretBox,
        catalog: any EggCatalogClient,
        pipeline: any PipelineClient,
        settings: Settings,
        logger: Logger,
        busConnected: @escaping @Sendable () -> Bool,
        metricsText: @escaping @Sendable () -> [UInt8]
    ) {
        keys = KeyStore(db: db)
        authThrottle = AuthThrottle(limit: settings.authFailureLimit)
        reviews = EggReviews(db: db)
        clusters = ClusterStore(db: db, box: box)
        ledger = Ledger(db: db)
        audit = AuditLog(db: db)
        deadLetters = DeadLetters(db: db)
        self.catalog = catalog
        self.pipeline = pipeline
        events = EventHub()
        webhooks = Webhooks(db: db, box: box, egress: EgressGuard(policy: settings.hosts), logger: logger)
        recorder = ProgressRecorder(ledger: ledger, hub: events, answers: deploymentCache)
        submitter = DeploymentSubmitter(
            ledger: ledger,
            pipeline: pipeline,
            recorder: recorder,
            audit: audit,
            limitPerCluster: settings.maxConcurrentPerCluster
        )
        self.settings = settings
        self.logger = logger
        self.busConnected = busConnected
        self.metricsText = metricsText
    }

    /// Drops every cached egg and egg page (an egg was created or uploaded through here).
    func forgetEggs() {
        eggCache.clear()
        eggListCache.clear()
    }

    /// The whole HTTP API under `/iceshelves`.
    func router() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        let allowed = AllowedMethods()
        router.middlewares.add(ErrorMiddleware(logger: logger, allowed: allowed))
        router.middlewares.add(AuthMiddleware(keys: keys, throttle: authThrottle))
        let root = router.group("iceshelves")
        HealthRoutes(gateway: self).add(to: root)
        let api = root.group("api")
        EggRoutes(gateway: self).add(to: api)
        ClusterRoutes(gateway: self).add(to: api)
        DeployRoutes(gateway: self).add(to: api)
        DeploymentRoutes(gateway: self).add(to: api)
        KeyRoutes(gateway: self).add(to: api)
        WebhookRoutes(gateway: self).add(to: api)
        HostAccessRoutes(gateway: self).add(to: api)
        AgentKeyRoutes(gateway: self).add(to: api)
        DeadLetterRoutes(gateway: self).add(to: api)
        let web = WebUI(gateway: self)  // the web UI (WebUI/): pages at /iceshelves/ over this same API
        web.add(to: root)
        allowed.load(router.routes)
        web.api.use(router.buildResponder())
        return router
    }
}
