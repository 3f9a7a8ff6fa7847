import Foundation

/// The parts of LXD's REST objects that IceShelves reads. Field names follow LXD's JSON.
public struct LXDServer: Decodable, Sendable {
    public struct Environment: Decodable, Sendable {
        public var serverVersion: String
        public var serverName: String?
        public var serverClustered: Bool?
        public var architectures: [String]?

        enum CodingKeys: String, CodingKey {
            case architectures
            case serverVersion = "server_version"
            case serverName = "server_name"
            case serverClustered = "server_clustered"
        }
    }

    public var apiVersion: String
    public var auth: String
    public var apiExtensions: [String]
    public var environment: Environment?

    enum CodingKeys: String, CodingKey {
        case auth, environment
        case apiVersion = "api_version"
        case apiExtensions = "api_extensions"
    }
}

public struct LXDOperation: Decodable, Sendable {
    public var id: String
    public var status: String
    public var statusCode: Int
    public var err: String?
    public var resources: [String: [String]]?
    public var metadata: JSONValue?
    /// What LXD says the operation does, e.g. `Creating instance` or `Executing command`.
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case id, status, err, resources, metadata, description
        case statusCode = "status_code"
    }

    /// A command running inside an instance (`exec`): it ends with the command, not with the
    /// instance's life cycle, so a stop or delete need not wait for it.
    public var isExec: Bool { description == "Executing command" }

    /// 200 Success; 400 Failure; 401 Cancelled. Below 200 it is still running.
    public var isFinished: Bool { statusCode >= 200 }
    public var succeeded: Bool { statusCode == 200 }
}

public struct LXDInstance: Decodable, Sendable {
    public var name: String
    public var status: String
    public var architecture: String?
    public var location: String?
    public var config: [String: String]
    public var profiles: [String]?
    public var type: String?
    /// When the instance was last started (`1970-01-01T00:00:00Z` when never), as LXD writes it.
    public var lastUsedAt: String?

    enum CodingKeys: String, CodingKey {
        case name, status, architecture, location, config, profiles, type
        case lastUsedAt = "last_used_at"
    }

    /// LXD lists an instance that is being created or deleted with `"config": null` (seen with
    /// another client creating instances on the same server): that is an empty config, not an
    /// unreadable listing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        status = try c.decode(String.self, forKey: .status)
        architecture = try c.decodeIfPresent(String.self, forKey: .architecture)
        location = try c.decodeIfPresent(String.self, forKey: .location)
        config = try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
        profiles = try c.decodeIfPresent([String].self, forKey: .profiles)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        lastUsedAt = try c.decodeIfPresent(String.self, forKey: .lastUsedAt)
    }

    /// ``lastUsedAt`` as a date; `nil` when absent or unreadable.
    public var lastStarted: Date? { Self.date(lastUsedAt) }

    static func date(_ text: String?) -> Date? {
        guard let text, text.count >= 19 else { return nil }
        return ISO8601DateFormatter().date(from: text.prefix(19) + "Z")  // fractions of LXD's nanoseconds dropped
    }
}

public struct LXDInstanceState: Decodable, Sendable {
    public struct Address: Decodable, Sendable {
        public var family: String
        public var address: String
        public var scope: String
    }

    public struct Network: Decodable, Sendable {
        public var addresses: [Address]
    }

    public var status: String
    public var network: [String: Network]?

    /// Global IPv4 addresses, loopback excluded, sorted by interface name.
    public var ipv4: [String] {
        (network ?? [:]).sorted { $0.key < $1.key }.filter { $0.key != "lo" }
            .flatMap { $0.value.addresses.filter { $0.family == "inet" && $0.scope == "global" }.map(\.address) }
    }
}

public struct LXDClusterMember: Decodable, Sendable {
    public var serverName: String
    public var url: String
    public var status: String
    public var message: String

    enum CodingKeys: String, CodingKey {
        case url, status, message
        case serverName = "server_name"
    }
}

public struct LXDResources: Decodable, Sendable {
    public struct CPU: Decodable, Sendable { public var total: Int }
    public struct Memory: Decodable, Sendable {
        public var total: UInt64
        public var used: UInt64
    }

    public var cpu: CPU
    public var memory: Memory
}

public struct LXDProfile: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    public var config: [String: String]
    public var devices: [String: [String: String]]

    public init(name: String, description: String, config: [String: String], devices: [String: [String: String]]) {
        self.name = name
        self.description = description
        self.config = config
        self.devices = devices
    }
}

/// The output of a command run with `record-output`.
public struct LXDExecResult: Sendable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
}
