import Foundation

/// The calls a warm pool needs: rename (the atomic claim), config changes, file pushes (the
/// NoCloud seed of a never-started instance) and the storage pool's free space.
extension LXDClient {
    /// Starts renaming a stopped instance; wait for the returned operation. LXD refuses it (404)
    /// when another caller renamed the instance first, and (409/400) when `newName` is taken.
    public func renameInstance(_ name: String, to newName: String) async throws -> LXDOperation {
        struct Body: Encodable { var name: String }
        return try await operation("POST", "/1.0/instances/\(escape(name))" + query([:]), body: Body(name: newName))
    }

    /// Merges `config` into the instance's config (`PATCH`); an empty value removes the key.
    public func patchConfig(_ name: String, _ config: [String: String]) async throws {
        struct Body: Encodable { var config: [String: String] }
        _ = try await send("PATCH", "/1.0/instances/\(escape(name))" + query([:]), body: Body(config: config)) as JSONValue?
    }

    /// Writes a file into an instance (running or not), owned by root, mode 0644, replacing it.
    public func pushFile(_ name: String, path: String, content: [UInt8]) async throws {
        let response = try await raw("POST", "/1.0/instances/\(escape(name))/files" + query(["path": path]), body: content)
        guard response.status < 400 else {
            throw LXDError(.api, "writing \(path) into \(name) failed: HTTP \(response.status)", status: response.status)
        }
    }

    /// The names of the instances that running LXD operations work on (a create still unpacking, a rename, a start).
    public func busyInstances() async throws -> Set<String> {
        Set(
            try await runningOperations().flatMap { $0.resources?["instances"] ?? [] }.compactMap {
                $0.split(separator: "?").first?.split(separator: "/").last.map { $0.removingPercentEncoding ?? String($0) }
            }
        )
    }

    /// Whether a file exists in an instance.
    public func fileExists(_ name: String, path: String) async throws -> Bool {
        do {
            _ = try await file(name, path: path)
            return true
        } catch let e as LXDError where e.status == 404 {
            return false
        }
    }

    /// Space used and total on a storage pool (of one member, on a cluster), in bytes.
    public func storagePoolSpace(_ pool: String, member: String? = nil) async throws -> (used: UInt64, total: UInt64) {
        struct Resources: Decodable {
            struct Space: Decodable {
                var used: UInt64
                var total: UInt64
            }
            var space: Space
        }
        let r: Resources = try await get("/1.0/storage-pools/\(escape(pool))/resources" + query(["target": member], project: false))
        return (r.space.used, r.space.total)
    }

    /// An image's size in bytes (by alias or fingerprint), with the fingerprint; `nil` when there is no such image.
    public func image(_ aliasOrFingerprint: String) async throws -> (fingerprint: String, size: UInt64)? {
        struct Image: Decodable {
            var fingerprint: String
            var size: UInt64
        }
        let isFingerprint = aliasOrFingerprint.count >= 12 && aliasOrFingerprint.allSatisfy(\.isHexDigit)
        let fingerprint = isFingerprint ? aliasOrFingerprint : try await imageAlias(aliasOrFingerprint)
        guard let fingerprint else { return nil }
        do {
            let i: Image = try await get("/1.0/images/\(escape(fingerprint))" + query([:]))
            return (i.fingerprint, i.size)
        } catch let e as LXDError where e.isNotFound {
            return nil
        }
    }
}
