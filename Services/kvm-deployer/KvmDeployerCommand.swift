import ArgumentParser
import IceShelvesBus
import IceShelvesContracts
import IceShelvesKVMDeploy
import IceShelvesService
import IceShelvesSettings

/// The `kvm-deployer` executable: consumes `deploy.kvm` (several jobs at a time, and as one of
/// several competing processes), answers `kvm.test` and `kvm.cleanup`, and obeys `deployment.cancel`.
@main
struct KvmDeployerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .kvmDeployer,
        abstract: "IceShelves KVM deployer: deploys eggs to libvirt/QEMU hypervisors.",
        metricsPort: 9104
    )

    @OptionGroup var options: ServiceOptions

    @Option(help: ArgumentHelp("Deployments worked on at once. Env: ICESHELVES_KVM_CONCURRENCY. Default: 4", valueName: "n"))
    var concurrency: Int?

    @Option(
        name: .customLong("libvirt-timeout"),
        help: ArgumentHelp("Seconds for opening a libvirt connection. Env: LIBVIRT_CONNECTION_TIMEOUT. Default: 30", valueName: "seconds")
    )
    var libvirtTimeout: Int?

    @Option(
        name: .customLong("cloud-init-timeout"),
        help: ArgumentHelp("Seconds cloud-init may take after the start. Env: ICESHELVES_CLOUD_INIT_TIMEOUT. Default: 900", valueName: "seconds")
    )
    var cloudInitTimeout: Int?

    @Option(
        name: .customLong("allow-insecure"),
        help: ArgumentHelp(
            "1 allows qemu+tcp:// and test:// URIs (tests only). Env: ICESHELVES_KVM_ALLOW_INSECURE. Default: 0",
            valueName: "0|1"
        )
    )
    var allowInsecure: Int?

    func run() async throws {
        let workers = try Environment.integer(concurrency, flagName: "--concurrency", key: "ICESHELVES_KVM_CONCURRENCY", default: 4, in: 1...256)
        let timeout = try Environment.integer(
            libvirtTimeout,
            flagName: "--libvirt-timeout",
            key: "LIBVIRT_CONNECTION_TIMEOUT",
            default: 30,
            in: 1...3600
        )
        let cloudInit = try Environment.integer(
            cloudInitTimeout,
            flagName: "--cloud-init-timeout",
            key: "ICESHELVES_CLOUD_INIT_TIMEOUT",
            default: 900,
            in: 1...86400
        )
        let insecure = try Environment.integer(
            allowInsecure,
            flagName: "--allow-insecure",
            key: "ICESHELVES_KVM_ALLOW_INSECURE",
            default: 0,
            in: 0...1
        )
        try await ServiceRunner(name: .kvmDeployer, options: options, defaultMetricsPort: 9104).run { context, router in
            let opener = LibvirtOpener(timeout: .seconds(timeout), allowInsecure: insecure == 1)
            let connections = GatewayConnectionSource(bus: context.client, logger: context.logger)
            let cancels = CancelRegistry()
            let worker = DeployWorker(
                bus: context.client,
                connections: connections,
                opener: opener,
                cancels: cancels,
                cloudInitTimeout: .seconds(cloudInit)
            )
            let queries = KVMQueries(opener: opener, connections: connections)
            router.on(KVMTestRequest.self) { envelope, _ in try await queries.test(envelope.payload) }
            router.on(KVMCleanupRequest.self) { envelope, _ in try await queries.cleanup(envelope.payload) }
            return [
                QueueWorker<DeploymentRendered>(
                    client: context.client,
                    queue: DeployWorker.queue,
                    concurrency: workers,
                    publishers: context.jobPublishers,
                    logger: context.logger
                ) {
                    try await worker.handle($0, logger: $1)
                },
                CancelListener(service: .kvmDeployer, bus: context.client, cancels: cancels, logger: context.logger),
            ]
        }
    }
}
