import IceShelvesContracts
import IceShelvesEggs

/// Refuses a deployment that asks for host-level power nobody allowed (403 naming the key):
/// from `config_overrides`, or from the egg's LXD profile (LXD) or domain fragment (KVM). An admin allows a key on a cluster
/// (`PUT /clusters/{id}/host-access`) or reviews an egg version (`POST /eggs/{id}/review`);
/// built-in eggs ship reviewed. See docs/security.md.
struct HostAccessGuard: Sendable {
    let reviews: EggReviews

    func check(egg: EggDetail, overrides: [String: String], cluster: ClusterStore.Cluster, target: TargetType = .lxd) async throws {
        var refused = HostAccess.findings(config: overrides, origin: "config_overrides")
            .filter { !HostAccess.allows(cluster.hostAccessAllow, $0) }
        var found: [HostAccess.Finding] = []
        if target == .kvm, let xml = egg.files[Egg.File.kvmConfig.rawValue], !xml.isEmpty {
            found = HostAccess.findings(kvmFragment: xml, origin: "the egg's kvm-config.xml")
        } else if target == .lxd, let yaml = egg.files[Egg.File.lxdProfile.rawValue], !yaml.isEmpty {
            let spec = try LXDProfileSpec.parse(yaml)
            found =
                HostAccess.findings(config: spec.config, origin: "the egg's lxd-profile.yaml")
                + HostAccess.findings(devices: spec.devices, origin: "the egg's lxd-profile.yaml")
        }
        let unallowed = found.filter { !HostAccess.allows(cluster.hostAccessAllow, $0) }
        if !unallowed.isEmpty, !egg.isBuiltIn, try await !reviews.isReviewed(egg: egg.egg.name, contentHash: egg.egg.contentHash) {
            refused += unallowed
        }
        guard let first = refused.first else { return }
        let keys = Set(refused.map(\.key)).sorted().joined(separator: ", ")
        throw APIError.forbidden(
            "\(first) gives host-level power (\(keys)); an admin must allow it on cluster \(cluster.name) "
                + "(PUT /api/clusters/\(cluster.id)/host-access) or review egg \(egg.egg.name) \(egg.egg.version) (POST /api/eggs/\(egg.egg.name)/review)"
        )
    }
}
