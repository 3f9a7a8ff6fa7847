import IceShelvesBus
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesRendering

/// Where the renderer gets an egg version.
protocol EggSource: Sendable {
    func egg(name: String, version: String?) async throws -> (Egg, EggSummary)
}

/// Asks the egg catalogue over the bus (`egg.get`).
struct CatalogEggSource: EggSource {
    let client: AMQPClient
    var timeout: Duration = .seconds(5)

    func egg(name: String, version: String?) async throws -> (Egg, EggSummary) {
        let detail: EggDetail
        do {
            detail = try await client.call(
                Envelope(EggGetRequest(name: name, version: version)),
                service: .eggCatalog,
                expecting: EggDetail.self,
                timeout: timeout
            ).payload
        } catch let e as RPCError where e.code == "not_found" {
            throw RenderError(e.message)
        }
        var files: [Egg.File: String] = [.metadata: detail.metadataJSON]
        for (k, v) in detail.files { if let f = Egg.File(rawValue: k) { files[f] = v } }
        do {
            return (try EggValidator.validate(files: files), detail.egg)
        } catch {
            throw RenderError("the catalogue's egg '\(name)' is no longer valid: \(error)")
        }
    }
}
