import ArgumentParser
import IceShelvesSettings

/// `iceshelves-agent`: runs on a hypervisor in a network that only allows outbound traffic.
///
/// It speaks the original agent protocol (poll `POST <server>/api/agent/poll/<cluster-id>` with
/// `X-Agent-Key`, report `POST <server>/api/agent/status/<deployment-id>`). This build takes and
/// checks the original settings; the poll-and-deploy loop is not in this build yet.
@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceshelves-agent",
        abstract: "IceShelves polling agent for hypervisors in closed networks.",
        discussion: """
            Settings are compatible with the original agent. This build checks them and exits \
            with status 2: the poll-and-deploy loop is not implemented yet.
            """
    )

    @Option(help: ArgumentHelp("Server URL including /iceshelves. Env: ICESHELVES_SERVER.", valueName: "url"))
    var server: String?

    @Option(name: .customLong("cluster-id"), help: ArgumentHelp("This agent's cluster id. Env: ICESHELVES_CLUSTER_ID.", valueName: "id"))
    var clusterId: String?

    @Option(name: .customLong("agent-key"), help: ArgumentHelp("The cluster's agent key. Env: ICESHELVES_AGENT_KEY.", valueName: "key"))
    var agentKey: String?

    @Option(
        name: .customLong("poll-interval"),
        help: ArgumentHelp("Seconds between polls, 1-600. Env: ICESHELVES_POLL_INTERVAL. Default: 300", valueName: "seconds")
    )
    var pollInterval: Int?

    @Flag(help: "Log debug messages.")
    var debug = false

    func run() async throws {
        guard let server = server ?? Environment.value("ICESHELVES_SERVER") else {
            throw ValidationError("--server or ICESHELVES_SERVER is required")
        }
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw ValidationError("--server must be an http:// or https:// URL")
        }
        guard clusterId ?? Environment.value("ICESHELVES_CLUSTER_ID") != nil else {
            throw ValidationError("--cluster-id or ICESHELVES_CLUSTER_ID is required")
        }
        guard agentKey ?? Environment.value("ICESHELVES_AGENT_KEY") != nil else {
            throw ValidationError("--agent-key or ICESHELVES_AGENT_KEY is required")
        }
        _ = try Environment.integer(pollInterval, flagName: "--poll-interval", key: "ICESHELVES_POLL_INTERVAL", default: 300, in: 1...600)
        print("iceshelves-agent: settings are valid; the poll-and-deploy loop is not implemented in this build")
        throw ExitCode(2)
    }
}
