import ArgumentParser
import IceShelvesSettings

/// Where the gateway is and which key to use: flags, then `ICESHELVES_URL` and
/// `ICESHELVES_API_KEY` (or `ICESHELVES_API_KEY_FILE`), then the config file `iceshelves login` wrote.
struct GatewayOptions: ParsableArguments {
    static let defaultURL = "http://127.0.0.1:8000/iceshelves"

    @Option(
        name: .customLong("url"),
        help: ArgumentHelp("The gateway's base URL. Env: ICESHELVES_URL. Default: the config file, else \(Self.defaultURL)", valueName: "url")
    )
    var url: String?

    @Option(name: .customLong("api-key"), help: ArgumentHelp("An API key (isk_…). Env: ICESHELVES_API_KEY.", valueName: "key"))
    var apiKey: String?

    @Option(name: .customLong("api-key-file"), help: ArgumentHelp("A file holding the API key. Env: ICESHELVES_API_KEY_FILE.", valueName: "path"))
    var apiKeyFile: String?

    @Option(name: .customLong("request-timeout"), help: ArgumentHelp("Seconds to wait for each answer of the gateway.", valueName: "seconds"))
    var requestTimeout: Double = 30

    func validate() throws {
        guard requestTimeout > 0, requestTimeout <= 300 else { throw ValidationError("--request-timeout must be between 0 and 300 seconds") }
    }

    /// The base URL without a trailing slash.
    func resolvedURL(in env: Environment = .process, config: ConfigFile? = nil) throws -> String {
        let text = url ?? env.value("ICESHELVES_URL") ?? config?.url ?? Self.defaultURL
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            throw ValidationError("--url / ICESHELVES_URL must be an http:// or https:// URL")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// The key from the flag, the environment, a file or the config file; `nil` when none is given.
    func resolvedKey(in env: Environment = .process, config: ConfigFile? = nil) throws -> String? {
        if let key = apiKey ?? env.value("ICESHELVES_API_KEY") { return key }
        guard let path = apiKeyFile ?? env.value("ICESHELVES_API_KEY_FILE") else { return config?.apiKey }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read the API key file \(path)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
