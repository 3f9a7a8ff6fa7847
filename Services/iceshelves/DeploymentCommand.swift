import ArgumentParser
import Foundation
import IceShelvesContracts

/// `iceshelves deployment list|show|logs|follow|cancel|retry|cleanup`.
struct DeploymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment",
        abstract: "Watch and manage deployments.",
        subcommands: [List.self, Show.self, Logs.self, Follow.self, Cancel.self, Retry.self, Cleanup.self]
    )

    static let columns = ["id", "instance_name", "egg_name", "cluster_id", "status", "created_at"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deployments, newest first (GET /api/deployments).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var paging: PageOptions
        @Option(help: ArgumentHelp("Only this status: \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "status"))
        var status: String?
        @Option(help: "Only this cluster (name or id).") var cluster: String?
        @Option(help: "Only this egg (name or id).") var egg: String?

        func run() async throws {
            let client = try GatewayClient(connection)
            var clusterId: String?
            if let cluster { clusterId = try await ClusterCommand.resolve(cluster, client) }
            let data = try await client.call(
                "GET",
                "deployments",
                query: paging.query.merging(["status": status, "cluster_id": clusterId, "egg_id": egg]) { $1 }
            )
            try output.printList(data["deployments"]?.array ?? [], defaults: DeploymentCommand.columns)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one deployment with its instance_info (GET /api/deployments/{id}).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The deployment's id.") var id: String

        func run() async throws {
            let data = try await GatewayClient(connection).call("GET", "deployments/\(DeploymentWatcher.escape(id))")
            try output.printItem(
                data,
                defaults: DeploymentCommand.columns + ["target_member", "instance_info.ipv4", "instance_info.member", "error", "last_seq"]
            )
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a deployment's log (GET /api/deployments/{id}/logs).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The deployment's id.") var id: String

        func run() async throws {
            let data = try await GatewayClient(connection).call("GET", "deployments/\(DeploymentWatcher.escape(id))/logs")
            try output.printList(data["logs"]?.array ?? data.array ?? [], defaults: ["seq", "timestamp", "level", "step", "message"])
        }
    }

    struct Follow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a deployment live until it ends (its SSE stream).",
            discussion: "Steps and a progress bar on a terminal, plain lines when piped. Exits 0 completed, 1 failed, 2 cancelled, 3 timed out."
        )
        @OptionGroup var connection: GatewayOptions
        @Argument(help: "The deployment's id.") var id: String
        @Option(help: ArgumentHelp("How long to wait (90s, 5m, 1h).", valueName: "duration")) var timeout: WaitDuration?

        func run() async throws {
            let code = try await DeploymentWatcher(client: try GatewayClient(connection), id: id, timeout: timeout?.seconds).run()
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a deployment; its deployer removes what it created.")
        @OptionGroup var connection: GatewayOptions
        @Argument(help: "The deployment's id.") var id: String

        func run() async throws {
            let data = try await GatewayClient(connection).call("POST", "deployments/\(DeploymentWatcher.escape(id))/cancel")
            print(TextTable.clean(data["message"]?.string ?? "cancelling \(id)"))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retry a failed, timed-out or cancelled deployment under a new id.")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The deployment's id.") var id: String
        @Flag(help: "Follow the new deployment until it ends.") var wait = false
        @Option(help: ArgumentHelp("How long --wait waits.", valueName: "duration")) var timeout: WaitDuration?

        func run() async throws {
            let client = try GatewayClient(connection)
            let data = try await client.call("POST", "deployments/\(DeploymentWatcher.escape(id))/retry")
            try output.printItem(data, defaults: ["deployment_id", "retry_of", "status"])
            guard wait, let new = data["deployment_id"]?.string else { return }
            let code = try await DeploymentWatcher(client: client, id: new, timeout: timeout?.seconds).run()
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Cleanup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop and delete the instance a deployment made.")
        @OptionGroup var connection: GatewayOptions
        @Argument(help: "The deployment's id.") var id: String

        func run() async throws {
            let data = try await GatewayClient(connection).call("DELETE", "deployments/\(DeploymentWatcher.escape(id))/cleanup")
            print(TextTable.clean(data["message"]?.string ?? (data["removed"] == .bool(true) ? "removed" : "nothing to remove")))
        }
    }
}
