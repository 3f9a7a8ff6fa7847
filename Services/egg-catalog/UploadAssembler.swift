import Foundation

/// Holds the chunks of large uploads until their final `egg.upload`, with bounds: a size limit
/// per upload, a few uploads at a time, and an expiry for uploads that were abandoned.
actor UploadAssembler {
    private struct Upload {
        var text: String
        var nextIndex: Int
        var touched: ContinuousClock.Instant
    }

    let maxBase64Bytes: Int
    let maxUploads: Int
    let expiry: Duration
    private var uploads: [String: Upload] = [:]

    init(maxArchiveBytes: Int, maxUploads: Int = 4, expiry: Duration = .seconds(120)) {
        self.maxBase64Bytes = (maxArchiveBytes + 2) / 3 * 4
        self.maxUploads = maxUploads
        self.expiry = expiry
    }

    /// Appends one chunk, in order; returns the base64 bytes held so far.
    func add(uploadId: String, index: Int, data: String) throws -> Int {
        let now = ContinuousClock.now
        uploads = uploads.filter { now - $0.value.touched < expiry }
        guard uploadId.count <= 64, !uploadId.isEmpty else { throw CatalogError.badRequest("upload_id must be 1-64 characters") }
        guard data.utf8.count <= 1_048_576 else { throw CatalogError.badRequest("a chunk holds at most 1 MiB") }
        var upload = uploads[uploadId] ?? Upload(text: "", nextIndex: 0, touched: now)
        guard index == upload.nextIndex else {
            uploads[uploadId] = nil
            throw CatalogError.badRequest("upload \(uploadId.prefix(64)): chunk \(index) arrived, \(upload.nextIndex) was expected")
        }
        if index == 0 && uploads.count >= maxUploads { throw CatalogError.conflict("too many uploads in progress; try again shortly") }
        guard upload.text.utf8.count + data.utf8.count <= maxBase64Bytes else {
            uploads[uploadId] = nil
            throw CatalogError.badRequest("the archive is larger than \(maxBase64Bytes / 4 * 3) bytes")
        }
        upload.text += data
        upload.nextIndex += 1
        upload.touched = now
        uploads[uploadId] = upload
        return upload.text.utf8.count
    }

    /// The whole base64 text of an upload, which is then forgotten.
    func finish(uploadId: String) throws -> String {
        guard let upload = uploads.removeValue(forKey: uploadId) else {
            throw CatalogError.badRequest("upload \(uploadId.prefix(64)) is unknown here, or expired")
        }
        return upload.text
    }
}
