import Foundation

/// `~/.config/iceshelves/config.json` (or `$ICESHELVES_CONFIG`, or under `$XDG_CONFIG_HOME`):
/// the gateway URL and API key `iceshelves login` saved, readable by its owner only (0600).
struct ConfigFile: Codable, Sendable, Equatable {
    var url: String
    var apiKey: String

    enum CodingKeys: String, CodingKey {
        case url
        case apiKey = "api_key"
    }

    static func path(env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = env["ICESHELVES_CONFIG"], !p.isEmpty { return p }
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/iceshelves/config.json"
    }

    /// The saved file, or `nil` when there is none. A file others may read is refused, as ssh does.
    static func load(from path: String = ConfigFile.path()) throws -> ConfigFile? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw CLIError("\(path) may be read by others (mode \(String(mode, radix: 8))); run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), let config = try? JSONDecoder().decode(ConfigFile.self, from: data) else {
            throw CLIError("cannot read \(path): run iceshelves login again")
        }
        return config
    }

    /// Writes the file with mode 0600 (created that way, so the key is never readable by others).
    func save(to path: String = ConfigFile.path()) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        let tmp = path + ".tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw CLIError("cannot write \(path)")
        }
    }
}
