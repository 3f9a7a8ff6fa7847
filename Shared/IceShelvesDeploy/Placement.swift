import IceShelvesLXD

/// Where an instance goes when the deployment names no member: the online cluster member
/// with the most free memory (total minus used, from `/1.0/resources?target=`), ties broken by
/// name. A standalone server needs no choice.
public struct Placement: Sendable {
    public init() {}

    public func member(for client: LXDClient, clustered: Bool) async throws -> String? {
        guard clustered else { return nil }
        let online = try await client.clusterMembers().filter { $0.status.lowercased() == "online" }
        guard !online.isEmpty else { throw DeployFailure(step: .placement, message: "no cluster member is online") }
        var best: (name: String, free: UInt64)?
        for member in online.sorted(by: { $0.serverName < $1.serverName }) {
            let r = try await client.resources(member: member.serverName)
            let free = r.memory.total > r.memory.used ? r.memory.total - r.memory.used : 0
            if best == nil || free > best!.free { best = (member.serverName, free) }
        }
        return best?.name
    }
}
