import ArgumentParser
import IceShelvesBus
import IceShelvesContracts
import IceShelvesRendering
import IceShelvesService
import IceShelvesSettings

/// The `cloud-init-renderer` executable: renders deployments from `deploy.render` and answers
/// `render.preview`.
@main
struct CloudInitRendererCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .cloudInitRenderer,
        abstract: "IceShelves cloud-init renderer: user-data, meta-data and NoCloud seeds.",
        metricsPort: 9102
    )

    @OptionGroup var options: ServiceOptions

    @Option(help: ArgumentHelp("Deployments rendered at once. Env: ICESHELVES_RENDER_CONCURRENCY. Default: 4", valueName: "n"))
    var concurrency: Int?

    func run() async throws {
        let workers = try Environment.integer(concurrency, flagName: "--concurrency", key: "ICESHELVES_RENDER_CONCURRENCY", default: 4, in: 1...256)
        try await ServiceRunner(name: .cloudInitRenderer, options: options, defaultMetricsPort: 9102).run { context, router in
            let service = RenderService(client: context.client, source: CatalogEggSource(client: context.client), seeds: GenisoimageSeed())
            router.on(RenderPreviewRequest.self) { envelope, _ in
                do {
                    return try await service.render(envelope.payload.request, includeSeed: envelope.payload.includeSeed)
                } catch let e as RenderError {
                    throw RPCError.badRequest(e.message)
                }
            }
            return [
                QueueWorker<DeploymentRequested>(
                    client: context.client,
                    queue: RenderService.queue,
                    concurrency: workers,
                    topology: RenderService.topology,
                    publishers: context.jobPublishers,
                    logger: context.logger
                ) {
                    try await service.handle($0, logger: $1)
                }
            ]
        }
    }
}
