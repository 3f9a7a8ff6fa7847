import Foundation
import IceShelvesTestSupport
import Testing

/// The three-node RabbitMQ cluster on loopback that `scripts/test` starts when
/// `ICESHELVES_TEST_RMQ_CLUSTER=1` (`start_rabbitmq_cluster` in `scripts/lib.sh`): its URLs, one
/// per node (vhost `cluster`, user guest), and each node's folder, in the same order.
enum BrokerCluster {
    static let env = ProcessInfo.processInfo.environment
    /// The nodes' URLs, comma-separated, as a service's `--amqp-url` takes them.
    static let urls = env["ICESHELVES_TEST_RMQ_CLUSTER_URLS"]
    /// Each node's folder (`scripts/rabbitmq-node`'s `RMQ_DIR`; its name is the node's name).
    static let nodes: [String] = (env["ICESHELVES_TEST_RMQ_CLUSTER_NODES"] ?? "").split(separator: ",").map(String.init)
    static let vhost = "cluster"
    static var ready: Bool {
        env["ICESHELVES_TEST_RMQ_CLUSTER"] == "1" && urls != nil && nodes.count >= 3 && SystemEnvironment.binDir != nil
    }

    static let script =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/rabbitmq-node").path

    /// The node's name without `@localhost`.
    static func name(_ node: Int) -> String { URL(fileURLWithPath: nodes[node]).lastPathComponent }

    /// `rabbitmqctl ARGS` against one node; its output, or nil when it failed.
    static func ctl(_ node: Int, _ args: [String]) throws -> String? {
        let port = urls!.split(separator: ",")[node].split(separator: ":").last!.split(separator: "/").first!
        let run = try Tool.run(
            "/usr/bin/env",
            ["RMQ_NAME=\(name(node))", "RMQ_PORT=\(port)", "RMQ_DIR=\(nodes[node])", script, "ctl"] + args
        )
        return run.status == 0 ? run.output : nil
    }

    /// The index of the node that leads a quorum queue, asked of `askingNode`.
    static func leader(of queue: String, askingNode: Int) throws -> Int? {
        guard let out = try ctl(askingNode, ["-q", "--no-table-headers", "list_queues", "-p", vhost, "name", "leader"]) else { return nil }
        for line in out.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, fields[0] == queue else { continue }
            return nodes.indices.first { "\(name($0))@localhost" == fields[1] }
        }
        return nil
    }

    /// Kills a node's Erlang VM with SIGKILL (a crash, not a shutdown), by the PID the node wrote
    /// into its folder; returns that PID.
    static func crash(_ node: Int) throws -> Int32 {
        let text = try String(contentsOfFile: nodes[node] + "/rabbit.pid", encoding: .utf8)
        let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGKILL)
        return pid
    }
}
