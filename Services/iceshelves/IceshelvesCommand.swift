import ArgumentParser

/// The `iceshelves` command-line client.
@main
struct IceshelvesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceshelves",
        abstract: "IceShelves command-line client: talks to the gateway's REST API.",
        subcommands: [PingCommand.self]
    )
}
