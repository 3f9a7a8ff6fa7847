import ArgumentParser

/// The `iceshelves` command-line client.
@main
struct IceshelvesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceshelves",
        abstract: "IceShelves command-line client: talks to the gateway's REST API.",
        discussion: """
            Configuration: --url and --api-key, else ICESHELVES_URL and ICESHELVES_API_KEY, else the file \
            `iceshelves login` writes. Lists and shows take --format table|json|yaml|csv and -c columns. \
            Shell completion: iceshelves --generate-completion-script bash|zsh|fish.
            """,
        subcommands: [
            EggCommand.self, ClusterCommand.self, DeployCommand.self, DeploymentCommand.self, StatusCommand.self, LoginCommand.self,
            PingCommand.self, DeadLetterCommand.self,
        ]
    )
}
