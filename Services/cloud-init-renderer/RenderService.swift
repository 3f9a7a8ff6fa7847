import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesRendering
import Logging
import Metrics

/// The renderer's work: the `deploy.render` pipeline step and the `render.preview` RPC.
///
/// Stateless: several copies can consume side by side. A deployment that cannot be rendered
/// (bad variables, bad overrides, unknown egg) is a business failure: it is reported as a
/// `failed` event and acked, not dead-lettered. Redelivery renders the same bytes again.
struct RenderService: Sendable {
    static let queue = BusNames.renderQueue

    let client: AMQPClient
    let source: any EggSource
    let seeds: any SeedImageMaking
    let renderer = Renderer()

    /// Renders a request into the message for the deployer.
    func render(_ request: DeploymentRequested, includeSeed: Bool) async throws -> DeploymentRendered {
        let started = ContinuousClock.now
        let (egg, summary) = try await source.egg(name: request.eggName, version: request.eggContentHash ?? request.eggVersion)
        if let pinned = request.eggContentHash, summary.contentHash != pinned {
            throw RenderError("egg \(request.eggName) has no content \(pinned.prefix(12)) any more; it was pinned when the deployment was accepted")
        }
        let out = try renderer.render(egg: egg, request: request)
        var seed: String?
        if includeSeed {
            seed = Data(try await seeds.makeSeed(userData: out.userData, metaData: out.metaData, networkConfig: out.networkConfig))
                .base64EncodedString()
        }
        Timer(label: "iceshelves_render_duration_seconds", dimensions: [("target", request.target.rawValue)])
            .recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
        return DeploymentRendered(
            deploymentId: request.deploymentId,
            instanceName: request.instanceName,
            target: request.target,
            eggName: summary.name,
            eggVersion: summary.version,
            eggContentHash: summary.contentHash,
            baseImage: request.destination?.image ?? summary.baseImage,
            userData: out.userData,
            metaData: out.metaData,
            networkConfig: out.networkConfig,
            vendorData: out.vendorData,
            lxdProfile: out.lxdProfile,
            kvmConfig: out.kvmConfig,
            seedISOBase64: seed,
            destination: request.destination,
            minMemoryMB: egg.metadata.requirements?.minMemoryMB,
            minDiskGB: egg.metadata.requirements?.minDiskGB,
            minCores: egg.metadata.requirements?.minCores
        )
    }

    /// The pipeline step: render, announce `queued`, hand to the deployer's queue (confirmed).
    ///
    /// `queued` goes out (confirmed) before the job does, so no deployer event can overtake it.
    /// If the hand-over then fails, the message is retried by the bus and `queued` is said again.
    func handle(_ envelope: Envelope<DeploymentRequested>, logger: Logger) async throws {
        let request = envelope.payload
        await event(request.deploymentId, .rendering, message: "rendering \(request.eggName) for \(request.instanceName)", logger: logger)
        let rendered: DeploymentRendered
        do {
            rendered = try await render(request, includeSeed: request.target == .kvm)
        } catch let error as RenderError {
            logger.warning("deployment cannot be rendered", metadata: ["reason": "\(error.message)"])
            await event(request.deploymentId, .failed, level: .error, message: error.message, logger: logger)
            return
        }
        await event(
            request.deploymentId,
            .queued,
            message:
                "rendered \(rendered.eggName) \(rendered.eggVersion) (\(rendered.eggContentHash.prefix(12))); queued for \(request.destination?.viaAgent == true ? "the cluster's agent" : "the \(request.target.rawValue) deployer")",
            details: ["egg_version": rendered.eggVersion, "egg_content_hash": rendered.eggContentHash],
            logger: logger
        )
        let queue = BusNames.jobQueue(request.target, viaAgent: request.destination?.viaAgent ?? false)
        try await client.publish(
            Envelope(rendered, correlationId: envelope.messageId, deploymentId: request.deploymentId),
            routingKey: queue
        )
        logger.info("deployment rendered", metadata: ["queue": "\(queue)"])
    }

    /// Publishes a progress event; an event that cannot be published is logged, not fatal.
    func event(
        _ id: String,
        _ status: DeploymentStatus,
        level: LogLevel = .info,
        message: String,
        details: [String: String] = [:],
        logger: Logger
    ) async {
        await client.publishProgress(
            DeploymentEvent(status: status, step: .render, level: level, message: message, details: details),
            deploymentId: id,
            logger: logger
        )
    }

    /// The queues the pipeline step writes to exist before the first message.
    static var topology: BusTopology {
        TargetType.allCases.reduce(BusTopology.workQueue(queue).merging(.workQueue(BusNames.agentQueue))) { $0.merging(.workQueue($1.deployQueue)) }
    }
}
