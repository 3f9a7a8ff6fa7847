import IceShelvesEggs
import Logging

/// Loads `eggs/` into the catalogue at start. A broken egg is logged with its path and reason
/// and does not stop the others.
struct CatalogImporter: Sendable {
    let store: CatalogStore
    let loader: EggFolderLoader

    @discardableResult
    func run(folder: String, logger: Logger) async throws -> CatalogStore.ImportReport {
        let started = ContinuousClock.now
        let outcomes = try loader.loadAll(root: folder)
        var eggs: [Egg] = []
        for outcome in outcomes {
            switch outcome {
            case .loaded(let egg, _): eggs.append(egg)
            case .refused(let path, let reason): logger.error("egg refused", metadata: ["path": "\(path)", "reason": "\(reason)"])
            }
        }
        let report = try await store.importEggs(eggs)
        for message in report.refused { logger.error("egg not imported", metadata: ["reason": "\(message)"]) }
        logger.info(
            "eggs imported",
            metadata: [
                "folder": "\(folder)", "created": "\(report.created)", "new_versions": "\(report.newVersions)",
                "unchanged": "\(report.unchanged)", "refused": "\(outcomes.count - eggs.count + report.refused.count)",
                "seconds": "\((ContinuousClock.now - started) / .seconds(1))",
            ]
        )
        return report
    }
}
