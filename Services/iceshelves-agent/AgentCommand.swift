import ArgumentParser
import Foundation
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesKVMDeploy
import IceShelvesLXD
import IceShelvesSettings
import Logging
import ServiceLifecycle

/// `iceshelves-agent`: runs on a hypervisor in a network that only allows outbound traffic.
///
/// It long-polls the agent-broker for deployments of its cluster (plain polls against an old
/// server that speaks only the original protocol), deploys them to the local LXD with the same
/// steps as `lxd-deployer` (KVM jobs to the local libvirt with those of `kvm-deployer`), waits
/// for cloud-init, and reports. docs/agent-installation.md.
@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceshelves-agent",
        abstract: "IceShelves polling agent for hypervisors in closed networks.",
        discussion: "Settings are those of the original agent; SIGTERM stops it cleanly."
    )

    @Option(help: ArgumentHelp("Server URL including /iceshelves. Env: ICESHELVES_SERVER.", valueName: "url"))
    var server: String?

    @Option(name: .customLong("cluster-id"), help: ArgumentHelp("This agent's cluster id. Env: ICESHELVES_CLUSTER_ID.", valueName: "id"))
    var clusterId: String?

    @Option(name: .customLong("agent-key"), help: ArgumentHelp("The cluster's agent key. Env: ICESHELVES_AGENT_KEY.", valueName: "key"))
    var agentKey: String?

    @Option(
        name: .customLong("poll-interval"),
        help: ArgumentHelp(
            "Seconds between plain polls (an old server), 1-600. Env: ICESHELVES_POLL_INTERVAL. Default: 300",
            valueName: "seconds"
        )
    )
    var pollInterval: Int?

    @Option(
        name: .customLong("cloud-init-timeout"),
        help: ArgumentHelp("Seconds cloud-init may take. Env: ICESHELVES_CLOUD_INIT_TIMEOUT. Default: 600", valueName: "seconds")
    )
    var cloudInitTimeout: Int?

    @Option(help: ArgumentHelp("Deployments worked on at once, 1-16. Env: ICESHELVES_AGENT_CONCURRENCY. Default: 2", valueName: "n"))
    var concurrency: Int?

    @Option(
        name: .customLong("libvirt-uri"),
        help: ArgumentHelp("The local libvirt for KVM jobs. Env: ICESHELVES_LIBVIRT_URI. Default: qemu:///system", valueName: "uri")
    )
    var libvirtURI: String?

    @Option(
        name: .customLong("storage-pool"),
        help: ArgumentHelp(
            "libvirt storage pool of the base images and the VMs' volumes. Env: ICESHELVES_LIBVIRT_POOL. Default: default",
            valueName: "pool"
        )
    )
    var storagePool: String?

    @Option(
        name: .customLong("libvirt-network"),
        help: ArgumentHelp("libvirt network the VMs join. Env: ICESHELVES_LIBVIRT_NETWORK. Default: default", valueName: "network")
    )
    var libvirtNetwork: String?

    @Option(
        name: .customLong("domain-type"),
        help: ArgumentHelp("kvm, or qemu (software emulation). Env: ICESHELVES_LIBVIRT_DOMAIN_TYPE. Default: kvm", valueName: "type")
    )
    var domainType: String?

    @Option(
        name: .customLong("allow-insecure-libvirt"),
        help: ArgumentHelp(
            "1 allows qemu+tcp:// and test:// libvirt URIs (tests only). Env: ICESHELVES_KVM_ALLOW_INSECURE. Default: 0",
            valueName: "0|1"
        )
    )
    var allowInsecureLibvirt: Int?

    @Flag(help: "Log debug messages.")
    var debug = false

    func run() async throws {
        guard var server = server ?? Environment.value("ICESHELVES_SERVER"), !server.isEmpty else {
            throw ValidationError("--server or ICESHELVES_SERVER environment variable required")
        }
        while server.hasSuffix("/") { server.removeLast() }
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw ValidationError("--server must be an http:// or https:// URL")
        }
        guard let idText = clusterId ?? Environment.value("ICESHELVES_CLUSTER_ID"), let id = Int64(idText), id > 0 else {
            throw ValidationError("--cluster-id or ICESHELVES_CLUSTER_ID is required: a positive integer")
        }
        guard let key = agentKey ?? Environment.value("ICESHELVES_AGENT_KEY"), !key.isEmpty else {
            throw ValidationError("--agent-key or ICESHELVES_AGENT_KEY is required")
        }
        let interval = try Environment.integer(pollInterval, flagName: "--poll-interval", key: "ICESHELVES_POLL_INTERVAL", default: 300, in: 1...600)
        let cloudInit = try Environment.integer(
            cloudInitTimeout,
            flagName: "--cloud-init-timeout",
            key: "ICESHELVES_CLOUD_INIT_TIMEOUT",
            default: 600,
            in: 1...86400
        )
        let workers = try Environment.integer(concurrency, flagName: "--concurrency", key: "ICESHELVES_AGENT_CONCURRENCY", default: 2, in: 1...16)
        let insecure = try Environment.integer(
            allowInsecureLibvirt,
            flagName: "--allow-insecure-libvirt",
            key: "ICESHELVES_KVM_ALLOW_INSECURE",
            default: 0,
            in: 0...1
        )
        let domain = domainType ?? Environment.value("ICESHELVES_LIBVIRT_DOMAIN_TYPE") ?? "kvm"
        guard ["kvm", "qemu"].contains(domain) else { throw ValidationError("--domain-type must be kvm or qemu") }
        let libvirt = LocalLibvirt(
            settings: LibvirtSettings(
                uri: libvirtURI ?? Environment.value("ICESHELVES_LIBVIRT_URI") ?? "qemu:///system",
                storagePool: storagePool ?? Environment.value("ICESHELVES_LIBVIRT_POOL") ?? "default",
                network: libvirtNetwork ?? Environment.value("ICESHELVES_LIBVIRT_NETWORK") ?? "default",
                domainType: domain
            ),
            opener: LibvirtOpener(timeout: .seconds(30), allowInsecure: insecure == 1)
        )
        // The URI is checked now (a refused scheme is a configuration error); connecting waits for the first KVM job.
        do {
            if let folder = try libvirt.opener.prepare(libvirt.settings).folder { try? FileManager.default.removeItem(at: folder) }
        } catch {
            throw ValidationError("--libvirt-uri: \(error)")
        }

        let level: Logger.Level = debug ? .debug : .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "iceshelves-agent")
        let broker = BrokerClient(server: server, clusterId: String(id), key: key)
        let lxd = LocalLXD(
            holder: LocalLXDClient(socketPath: LocalLXDClient.defaultSocket(), connector: LXDConnector(timeout: .seconds(30), logger: logger))
        )
        let agentId = UUID().uuidString.lowercased()
        func runner(original: Bool) -> JobRunner {
            let reporter = HTTPReporter(broker: broker, original: original)
            return JobRunner(
                broker: broker,
                agentId: agentId,
                lxd: lxd,
                steps: LXDDeployment(reporter: reporter, cloudInitTimeout: .seconds(cloudInit), operationTimeout: .seconds(300)),
                libvirt: libvirt,
                kvmSteps: KVMDeployment(reporter: reporter, cloudInitTimeout: .seconds(cloudInit)),
                reporter: reporter,
                leaseSeconds: original ? 0 : 60
            )
        }
        let loop = AgentLoop(
            broker: broker,
            runner: runner(original: false),
            originalRunner: runner(original: true),
            pollInterval: interval,
            capacity: workers,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: loop)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        logger.info("stopped")
    }
}
