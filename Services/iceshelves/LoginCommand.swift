import ArgumentParser
import Foundation

/// `iceshelves login`: checks a URL and key against the gateway and saves them (mode 0600).
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Save the gateway URL and an API key in the config file (mode 0600).",
        discussion: """
            The key comes from --api-key, --api-key-file, ICESHELVES_API_KEY, or standard input. A fresh install's admin \
            key is in the gateway's data directory, in admin.key. The file is $ICESHELVES_CONFIG, else \
            $XDG_CONFIG_HOME/iceshelves/config.json, else ~/.config/iceshelves/config.json.
            """
    )
    @OptionGroup var connection: GatewayOptions

    func run() async throws {
        let url = try connection.resolvedURL()
        var key = try connection.resolvedKey()
        if key == nil {
            if isatty(STDIN_FILENO) == 1 { FileHandle.standardError.write(Data("API key: ".utf8)) }
            key = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces)
        }
        guard let key, !key.isEmpty else { throw CLIError("no API key given") }
        let client = GatewayClient(base: url, key: key, timeout: connection.requestTimeout)
        _ = try await client.call("GET", "eggs", query: ["per_page": "1"])
        let path = ConfigFile.path()
        try ConfigFile(url: url, apiKey: key).save(to: path)
        print("logged in to \(url); saved in \(path)")
    }
}
