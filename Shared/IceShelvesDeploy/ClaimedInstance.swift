import IceShelvesContracts
import IceShelvesLXD

/// Turns a claimed warm-pool instance (never started) into the deployment's instance before its
/// first start.
///
/// The images' templates (the NoCloud seed under `/var/lib/cloud/seed/nocloud-net/`,
/// `/etc/hostname`, `/etc/hosts`) are applied only `when: [create, copy]`, so they still hold the
/// pool instance's name and no user-data. Two things make cloud-init see a first boot of this
/// deployment: the seed files are rewritten through LXD's file API with the deployment's
/// user-data, meta-data (its own `instance-id`), vendor-data and network-config, and the config
/// keys are set, which cloud-init's LXD datasource (first in our images' `datasource_list`) reads
/// at boot through `/dev/lxd/sock`. Files the image does not have are not created.
///
/// The files are written before the config: the config change removes the pool marker and adds
/// the deployment marker, so until it is done a redelivered job recognises the unfinished claim
/// (``WarmPoolMarker/isUnfinishedClaim(_:)``) and does both again.
public struct ClaimedInstance: Sendable {
    static let seed = "/var/lib/cloud/seed/nocloud-net/"

    let lxd: LXDClient

    public init(lxd: LXDClient) { self.lxd = lxd }

    public func prepare(_ job: DeploymentRendered) async throws {
        let name = job.instanceName
        if try await lxd.fileExists(name, path: Self.seed + "meta-data") {
            var meta = job.metaData
            if !meta.contains("instance-id") { meta = "instance-id: \(name)\nlocal-hostname: \(name)\n" + meta }
            try await lxd.pushFile(name, path: Self.seed + "meta-data", content: Array(meta.utf8))
            try await lxd.pushFile(name, path: Self.seed + "user-data", content: Array(job.userData.utf8))
            try await lxd.pushFile(name, path: Self.seed + "vendor-data", content: Array((job.vendorData ?? "#cloud-config\n{}\n").utf8))
            if let network = job.networkConfig {
                try await lxd.pushFile(name, path: Self.seed + "network-config", content: Array(network.utf8))
            }
        }
        if try await lxd.fileExists(name, path: "/etc/hostname") {
            try await lxd.pushFile(name, path: "/etc/hostname", content: Array((name + "\n").utf8))
        }
        if let hosts = try? await lxd.file(name, path: "/etc/hosts") {
            let lines = String(decoding: hosts, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let fixed = lines.map { $0.hasPrefix("127.0.1.1") ? "127.0.1.1\t\(name)" : String($0) }.joined(separator: "\n")
            try await lxd.pushFile(name, path: "/etc/hosts", content: Array(fixed.utf8))
        }
        var config = LXDInstancePlan.config(for: job)
        config[WarmPoolMarker.pool] = ""  // an empty value removes the key
        config[WarmPoolMarker.fingerprint] = ""
        do {
            try await lxd.patchConfig(name, config)
        } catch let e as LXDError where e.kind == .api && e.message.contains("cloud-init.") {
            config = LXDInstancePlan.config(for: job, modernKeys: false)
            config[WarmPoolMarker.pool] = ""
            config[WarmPoolMarker.fingerprint] = ""
            try await lxd.patchConfig(name, config)
        }
    }
}
