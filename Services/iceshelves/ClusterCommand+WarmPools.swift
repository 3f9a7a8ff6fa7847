import ArgumentParser
import Foundation

extension ClusterCommand {
    /// `iceshelves cluster warm-pools CLUSTER [--pool IMAGE=SIZE[@MEMBER]]… [--clear]`.
    struct WarmPools: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "warm-pools",
            abstract: "Show or set a cluster's warm pools (GET /api/clusters/{id}, PUT /api/clusters/{id}/warm-pools, admin).",
            discussion: """
                Without --pool or --clear, lists the pools with ready, hits, misses and warning as an lxd-deployer sees them. \
                --pool replaces the whole list: --pool iceshelves/debian-12=2 --pool 'iceshelves/busybox=1@node2 profiles=default,web'. --clear removes \
                every pool (and, within the deployer's fill interval, its instances).
                """
        )
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The cluster's name or id.") var cluster: String
        @Option(
            name: .customLong("pool"),
            help: ArgumentHelp(
                "A pool: IMAGE=SIZE or IMAGE=SIZE@MEMBER, then ' profiles=P1,P2' when not the default profile (repeat for more).",
                valueName: "spec"
            )
        )
        var pools: [String] = []
        @Flag(help: "Remove every warm pool of the cluster.") var clear = false

        func run() async throws {
            let client = try GatewayClient(connection)
            let id = try await ClusterCommand.resolve(cluster, client)
            if clear || !pools.isEmpty {
                let specs = try pools.map(Self.parse)
                let data = try await client.call("PUT", "clusters/\(id)/warm-pools", json: .object(["warm_pools": .array(specs)]))
                try output.printList(data["warm_pools"]?.array ?? [], defaults: ["image", "size", "member"])
                return
            }
            let data = try await client.call("GET", "clusters/\(id)")
            let status = data["warm_pool_status"]?.array ?? data["warm_pools"]?.array ?? []
            try output.printList(status, defaults: ["image", "size", "ready", "hits", "misses", "member", "profiles", "warning"])
        }

        /// `IMAGE=SIZE[@MEMBER][ profiles=P1,P2]` as the API's pool object.
        static func parse(_ text: String) throws -> JSONValue {
            let words = text.split(separator: " ").map(String.init)
            guard let spec = words.first, words.count <= 2, words.count == 1 || words[1].hasPrefix("profiles=") else {
                throw ValidationError("--pool \(text.prefix(80)): expected IMAGE=SIZE[@MEMBER], then profiles=P1,P2 if not the default profile")
            }
            guard let eq = spec.lastIndex(of: "=") else { throw ValidationError("--pool \(spec.prefix(80)): expected IMAGE=SIZE[@MEMBER]") }
            let image = String(spec[..<eq])
            let rest = spec[spec.index(after: eq)...].split(separator: "@", maxSplits: 1).map(String.init)
            guard let size = rest.first.flatMap({ Int($0) }) else { throw ValidationError("--pool \(spec.prefix(80)): SIZE must be a number") }
            var pool: [String: JSONValue] = ["image": .string(image), "size": .number(Double(size))]
            if rest.count > 1 { pool["member"] = .string(rest[1]) }
            if words.count == 2 {
                pool["profiles"] = .array(words[1].dropFirst("profiles=".count).split(separator: ",").map { .string(String($0)) })
            }
            return .object(pool)
        }
    }
}
