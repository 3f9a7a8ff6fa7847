import ArgumentParser

/// The `iceshelves` command-line client.
@main
struct IceshelvesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceshelves",
        abstract: "IceShelves command-line client.",
        subcommands: [PingCommand.self])
}
