import ArgumentParser
import Foundation

/// `iceshelves deploy EGG --cluster C --name N [--var k=v …] [--target-member M] [--dry-run] [--wait] [--timeout D]`.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deploy an egg to a cluster (POST /api/deploy).",
        discussion: """
            Prints the deployment id. With --wait, follows its progress (steps and a bar on a terminal, plain lines \
            when piped) and exits 0 when it completed, 1 failed, 2 cancelled, 3 timed out.
            --dry-run prints the rendered user-data and the request that would go to the hypervisor, and creates nothing.
            """
    )

    @OptionGroup var connection: GatewayOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The egg's name or id.") var egg: String
    @Option(help: "The cluster's name or id.") var cluster: String
    @Option(help: "The instance's name.") var name: String
    @Option(name: .customLong("var"), help: ArgumentHelp("An egg variable, name=value (repeatable); typed by the egg.", valueName: "name=value"))
    var variables: [String] = []
    @Option(name: .customLong("target-member"), help: "The cluster member to place the instance on.") var targetMember: String?
    @Option(help: "An image alias instead of the egg's.") var image: String?
    @Option(name: .customLong("egg-version"), help: "An earlier version of the egg.") var eggVersion: String?
    @Option(name: .customLong("cloud-config"), help: "A cloud-config file merged over the egg's.", completion: .file()) var cloudConfig: String?
    @Flag(name: .customLong("dry-run"), help: "Render and show what would be sent; create nothing.") var dryRun = false
    @Flag(help: "Follow the deployment until it ends.") var wait = false
    @Option(help: ArgumentHelp("How long --wait waits (90s, 5m, 1h).", valueName: "duration")) var timeout: WaitDuration?

    func validate() throws {
        if timeout != nil && !wait { throw ValidationError("--timeout needs --wait") }
        if dryRun && wait { throw ValidationError("--dry-run creates nothing to --wait for") }
    }

    func run() async throws {
        let client = try GatewayClient(connection)
        let detail = variables.isEmpty ? nil : try await client.call("GET", "eggs/\(DeploymentWatcher.escape(egg))")
        let types = detail.map(VariableAssignment.declaredTypes) ?? [:]
        var vars: [String: JSONValue] = [:]
        for a in try variables.map(VariableAssignment.parse) { vars[a.name] = JSONValue(try a.value(as: types[a.name])) }
        var body: [String: JSONValue] = [
            "egg_id": .string(egg),
            "cluster_id": .string(try await ClusterCommand.resolve(cluster, client)),
            "instance_name": .string(name),
        ]
        if !vars.isEmpty { body["variables"] = .object(vars) }
        if let targetMember { body["target_member"] = .string(targetMember) }
        if let image { body["image"] = .string(image) }
        if let eggVersion { body["egg_version"] = .string(eggVersion) }
        if let cloudConfig {
            guard let text = try? String(contentsOfFile: cloudConfig, encoding: .utf8) else { throw CLIError("cannot read \(cloudConfig)") }
            body["cloud_config"] = .string(text)
        }
        let data = try await client.call("POST", "deploy", query: ["dry_run": dryRun ? "true" : nil], json: .object(body))
        if dryRun {
            if output.format == .table && output.columns.isEmpty {
                print("# user-data\n" + (data["user_data"]?.string ?? ""))
                print("# request to the hypervisor\n" + Renderer.prettyJSON(data["target_request"] ?? .null))
            } else {
                try output.printItem(data, defaults: ["user_data", "target_request"])
            }
            return
        }
        guard let id = data["deployment_id"]?.string else { throw CLIError("the gateway did not answer a deployment id") }
        if !wait {
            try output.printItem(data, defaults: ["deployment_id", "instance_name", "status"])
            return
        }
        let watcher = DeploymentWatcher(client: client, id: id, timeout: timeout?.seconds)
        if output.format == .table { watcher.write("deployment \(id)\n") }
        let code = try await watcher.run()
        if code != 0 { throw ExitCode(code) }
    }
}
