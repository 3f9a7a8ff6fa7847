import IceShelvesContracts

/// The contents of an egg's `metadata.json`: the original format, plus declared variables.
///
/// Unknown fields are ignored, so eggs from the original IceShelves load unchanged.
public struct EggMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var displayName: String?
    public var description: String
    public var category: EggCategory
    public var eggType: EggType
    public var baseImage: String
    public var author: String?
    public var created: String?
    public var tags: [String]
    public var requirements: EggRequirements?
    public var features: [String]
    /// Our extension: the variables a deploy may set.
    public var variables: [EggVariable]

    public init(
        name: String,
        version: String,
        displayName: String? = nil,
        description: String,
        category: EggCategory,
        eggType: EggType,
        baseImage: String,
        author: String? = nil,
        created: String? = nil,
        tags: [String] = [],
        requirements: EggRequirements? = nil,
        features: [String] = [],
        variables: [EggVariable] = []
    ) {
        self.name = name
        self.version = version
        self.displayName = displayName
        self.description = description
        self.category = category
        self.eggType = eggType
        self.baseImage = baseImage
        self.author = author
        self.created = created
        self.tags = tags
        self.requirements = requirements
        self.features = features
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey {
        case name, version, description, category, author, created, tags, requirements, features, variables
        case displayName = "display_name"
        case eggType = "egg_type"
        case baseImage = "base_image"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        category = try c.decode(EggCategory.self, forKey: .category)
        eggType = try c.decode(EggType.self, forKey: .eggType)
        baseImage = try c.decode(String.self, forKey: .baseImage)
        author = try c.decodeIfPresent(String.self, forKey: .author)
        created = try c.decodeIfPresent(String.self, forKey: .created)
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        requirements = try c.decodeIfPresent(EggRequirements.self, forKey: .requirements)
        features = try c.decodeIfPresent([String].self, forKey: .features) ?? []
        variables = try c.decodeIfPresent([EggVariable].self, forKey: .variables) ?? []
    }
}

/// The documented categories.
public enum EggCategory: String, Codable, Sendable, CaseIterable {
    case base, webserver, database, kubernetes, docker, custom
}

/// The smallest instance an egg needs.
public struct EggRequirements: Codable, Sendable, Equatable {
    public var minMemoryMB: Int?
    public var minDiskGB: Int?
    public var minCores: Int?

    public init(minMemoryMB: Int? = nil, minDiskGB: Int? = nil, minCores: Int? = nil) {
        self.minMemoryMB = minMemoryMB
        self.minDiskGB = minDiskGB
        self.minCores = minCores
    }

    enum CodingKeys: String, CodingKey {
        case minMemoryMB = "min_memory_mb"
        case minDiskGB = "min_disk_gb"
        case minCores = "min_cores"
    }
}
