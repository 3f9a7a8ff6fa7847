import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesEggs
import Logging

/// The catalogue's RPC handlers on `rpc.egg-catalog`.
struct CatalogHandlers: Sendable {
    let store: CatalogStore
    let archive: EggArchive
    /// Chunks of large uploads, held by this instance.
    let uploads: UploadAssembler
    /// This instance's own queue, where the later chunks of an upload it holds are sent.
    let uploadQueue: String

    init(store: CatalogStore, archive: EggArchive, uploadQueue: String = BusNames.uploadQueue(instance: UUID().uuidString.lowercased())) {
        self.store = store
        self.archive = archive
        self.uploads = UploadAssembler(maxArchiveBytes: archive.maxEggBytes + 1_048_576)
        self.uploadQueue = uploadQueue
    }

    func register(on router: inout RPCRouter) {
        router.on(EggListRequest.self) { e, _ in try await mapped { try await store.list(e.payload) } }
        router.on(EggGetRequest.self) { e, _ in try await mapped { try await store.get(e.payload) } }
        router.on(EggVersionsRequest.self) { e, _ in try await mapped { try await store.versions(of: e.payload.name) } }
        router.on(EggCreateFromTemplateRequest.self) { e, logger in
            let detail = try await mapped {
                let template = try await store.egg(named: e.payload.template)
                guard !template.metadata.variables.isEmpty else {
                    throw CatalogError.badRequest("'\(e.payload.template)' is not a template (it declares no variables)")
                }
                return try await store.create(
                    try TemplateInstantiator.instantiate(template, request: e.payload),
                    source: "template:\(e.payload.template)"
                )
            }
            logger.info("egg created from template", metadata: ["egg": "\(e.payload.name)", "template": "\(e.payload.template)"])
            return detail
        }
        router.on(EggUploadChunk.self) { e, _ in
            try await mapped {
                let held = try await uploads.add(uploadId: e.payload.uploadId, index: e.payload.index, data: e.payload.dataBase64)
                return EggUploadChunkReceived(uploadId: e.payload.uploadId, receivedBytes: held, queue: uploadQueue)
            }
        }
        router.on(EggUploadRequest.self) { e, logger in
            let detail = try await mapped {
                var text = e.payload.archiveBase64
                if let id = e.payload.uploadId { text = try await uploads.finish(uploadId: id) }
                guard let bytes = Data(base64Encoded: text) else { throw CatalogError.badRequest("archive_base64 is not base64") }
                let (folder, files) = try archive.files(from: Array(bytes))
                return try await store.upsert(
                    try EggValidator.validate(files: files, expectedName: folder),
                    source: "upload",
                    byAdmin: e.payload.byAdmin
                )
            }
            logger.info(
                "egg uploaded",
                metadata: ["egg": "\(detail.egg.name)", "version": "\(detail.egg.version)", "hash": "\(detail.egg.contentHash.prefix(12))"]
            )
            return detail
        }
    }

    /// Turns validation and catalogue errors into RPC failures with readable messages.
    private func mapped<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as CatalogError {
            throw e.rpcError
        } catch let e as EggValidationError {
            throw RPCError.badRequest(e.description)
        } catch let e as EggError {
            throw RPCError.badRequest(e.description)
        }
    }
}
