/// What a key may do: viewers read, operators also deploy and manage clusters' deployments,
/// admins also manage clusters, keys and webhooks.
enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, `operator`, admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// The caller, as its API key says.
struct Identity: Sendable {
    var keyId: String
    var name: String
    var role: Role
}
