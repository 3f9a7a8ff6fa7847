import ArgumentParser
import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesService
import IceShelvesSettings

/// The `egg-catalog` executable: imports `eggs/`, then serves the catalogue over the bus.
@main
struct EggCatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .eggCatalog,
        abstract: "IceShelves egg catalogue: imports, validates, versions and serves eggs.",
        metricsPort: 9101
    )

    @OptionGroup var options: ServiceOptions

    @Option(
        name: .customLong("eggs-dir"),
        help: ArgumentHelp("Folder of eggs imported at start. Env: ICESHELVES_EGGS_DIR. Default: eggs", valueName: "path")
    )
    var eggsDir: String?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp("Folder for catalog.sqlite. Env: ICESHELVES_DATA_DIR. Default: /var/tmp/iceshelves", valueName: "path")
    )
    var dataDir: String?

    @Option(
        name: .customLong("max-egg-size-mb"),
        help: ArgumentHelp("Largest egg accepted, in MB. Env: MAX_EGG_SIZE_MB. Default: 100", valueName: "mb")
    )
    var maxEggSizeMB: Int?

    func run() async throws {
        let maxMB = try Environment.integer(maxEggSizeMB, flagName: "--max-egg-size-mb", key: "MAX_EGG_SIZE_MB", default: 100, in: 1...1024)
        let data = dataDir ?? Environment.value("ICESHELVES_DATA_DIR") ?? "/var/tmp/iceshelves"
        let eggs = eggsDir ?? Environment.value("ICESHELVES_EGGS_DIR") ?? "eggs"
        try DataDirectory.prepare(data)
        let store = CatalogStore(database: try CatalogDatabase.open(path: data + "/catalog.sqlite"))
        let handlers = CatalogHandlers(store: store, archive: EggArchive(maxEggBytes: maxMB * 1_048_576))

        try await ServiceRunner(name: .eggCatalog, options: options, defaultMetricsPort: 9101).run { context, router in
            try await CatalogImporter(store: store, loader: EggFolderLoader(maxEggBytes: maxMB * 1_048_576)).run(folder: eggs, logger: context.logger)
            handlers.register(on: &router)
            // The instance's own queue for the later chunks of an upload (see `EggUploadChunk`).
            var uploadRouter = RPCRouter()
            handlers.register(on: &uploadRouter)
            return [
                RPCServer(
                    client: context.client,
                    queue: handlers.uploadQueue,
                    router: uploadRouter,
                    concurrency: 4,
                    topology: RPCServer.instanceTopology(queue: handlers.uploadQueue),
                    logger: context.logger
                )
            ]
        }
    }
}
