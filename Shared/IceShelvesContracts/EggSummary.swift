/// An egg as lists show it (the original API's egg fields, plus tags and the version's hash).
public struct EggSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var displayName: String
    public var description: String
    public var version: String
    public var contentHash: String
    public var category: String
    public var eggType: EggType
    public var baseImage: String
    public var tags: [String]
    public var isActive: Bool
    public var isTemplate: Bool
    public var createdOn: String

    public init(
        id: Int64,
        name: String,
        displayName: String,
        description: String,
        version: String,
        contentHash: String,
        category: String,
        eggType: EggType,
        baseImage: String,
        tags: [String],
        isActive: Bool,
        isTemplate: Bool,
        createdOn: String
    ) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.description = description
        self.version = version
        self.contentHash = contentHash
        self.category = category
        self.eggType = eggType
        self.baseImage = baseImage
        self.tags = tags
        self.isActive = isActive
        self.isTemplate = isTemplate
        self.createdOn = createdOn
    }

    enum CodingKeys: String, CodingKey {
        case id, name, description, version, category, tags
        case displayName = "display_name"
        case contentHash = "content_hash"
        case eggType = "egg_type"
        case baseImage = "base_image"
        case isActive = "is_active"
        case isTemplate = "is_template"
        case createdOn = "created_on"
    }
}

/// One egg version with its files.
public struct EggDetail: BusMessage, Equatable {
    public static let messageType = "egg.detail"
    public static let messageVersion = 1
    public var egg: EggSummary
    /// The raw `metadata.json`.
    public var metadataJSON: String
    /// File name → text: `cloud-init.yaml`, and when present `lxd-profile.yaml`, `kvm-config.xml`, `README.md`.
    public var files: [String: String]
    /// Where this version came from: `import` (a built-in egg from the eggs folder), `upload`,
    /// or `template:<name>`.
    public var source: String?

    public init(egg: EggSummary, metadataJSON: String, files: [String: String], source: String? = nil) {
        self.egg = egg
        self.metadataJSON = metadataJSON
        self.files = files
        self.source = source
    }

    /// `true` for an egg shipped with IceShelves (imported from its eggs folder).
    public var isBuiltIn: Bool { source == "import" }

    enum CodingKeys: String, CodingKey {
        case egg, files, source
        case metadataJSON = "metadata_json"
    }
}
