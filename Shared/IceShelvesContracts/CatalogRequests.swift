/// `egg.list`: a page of eggs, filtered. Answered with ``EggPage``.
public struct EggListRequest: BusMessage, Equatable {
    public static let messageType = "egg.list"
    public static let messageVersion = 1
    public var category: String?
    public var eggType: EggType?
    public var tag: String?
    /// Free text matched against name, display name, description and tags.
    public var search: String?
    public var includeInactive: Bool
    public var templatesOnly: Bool
    public var page: Int
    public var perPage: Int

    public init(
        category: String? = nil,
        eggType: EggType? = nil,
        tag: String? = nil,
        search: String? = nil,
        includeInactive: Bool = false,
        templatesOnly: Bool = false,
        page: Int = 1,
        perPage: Int = 20
    ) {
        self.category = category
        self.eggType = eggType
        self.tag = tag
        self.search = search
        self.includeInactive = includeInactive
        self.templatesOnly = templatesOnly
        self.page = page
        self.perPage = perPage
    }

    enum CodingKeys: String, CodingKey {
        case category, tag, search, page
        case eggType = "egg_type"
        case includeInactive = "include_inactive"
        case templatesOnly = "templates_only"
        case perPage = "per_page"
    }
}

/// A page of eggs.
public struct EggPage: BusMessage, Equatable {
    public static let messageType = "egg.page"
    public static let messageVersion = 1
    public var eggs: [EggSummary]
    public var total: Int
    public var page: Int
    public var perPage: Int
    public var totalPages: Int

    public init(eggs: [EggSummary], total: Int, page: Int, perPage: Int, totalPages: Int) {
        self.eggs = eggs
        self.total = total
        self.page = page
        self.perPage = perPage
        self.totalPages = totalPages
    }

    enum CodingKeys: String, CodingKey {
        case eggs, total, page
        case perPage = "per_page"
        case totalPages = "total_pages"
    }
}

/// `egg.get`: one egg by id or name, at its current version or a given one. Answered with ``EggDetail``.
public struct EggGetRequest: BusMessage, Equatable {
    public static let messageType = "egg.get"
    public static let messageVersion = 1
    public var id: Int64?
    public var name: String?
    /// A version (`1.0.0`) or a content hash (or its first 12 characters); `nil` for the current one.
    public var version: String?

    public init(id: Int64? = nil, name: String? = nil, version: String? = nil) {
        self.id = id
        self.name = name
        self.version = version
    }
}

/// `egg.create_from_template`: a new egg rendered from a template egg. Answered with ``EggDetail``.
public struct EggCreateFromTemplateRequest: BusMessage, Equatable {
    public static let messageType = "egg.create_from_template"
    public static let messageVersion = 1
    public var name: String
    public var template: String
    public var displayName: String?
    public var description: String?
    public var category: String?
    public var variables: [String: VariableValue]

    public init(
        name: String,
        template: String,
        displayName: String? = nil,
        description: String? = nil,
        category: String? = nil,
        variables: [String: VariableValue] = [:]
    ) {
        self.name = name
        self.template = template
        self.displayName = displayName
        self.description = description
        self.category = category
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey {
        case name, template, description, category, variables
        case displayName = "display_name"
    }
}

/// `egg.upload`: a gzip-compressed tar of one egg folder, base64-encoded. Creates the egg, or a
/// new version of it. Answered with ``EggDetail``.
///
/// A large archive travels as ``EggUploadChunk``s instead; the request then names their
/// `upload_id`, carries no archive, and goes to the queue the first chunk's reply named.
public struct EggUploadRequest: BusMessage, Equatable {
    public static let messageType = "egg.upload"
    public static let messageVersion = 1
    public var archiveBase64: String
    /// Set by the gateway when an admin uploads: only an admin may add a version to a built-in egg.
    public var byAdmin: Bool
    /// The chunked upload to assemble, instead of `archive_base64`.
    public var uploadId: String?

    public init(archiveBase64: String, byAdmin: Bool = false, uploadId: String? = nil) {
        self.archiveBase64 = archiveBase64
        self.byAdmin = byAdmin
        self.uploadId = uploadId
    }

    enum CodingKeys: String, CodingKey {
        case archiveBase64 = "archive_base64"
        case byAdmin = "by_admin"
        case uploadId = "upload_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        archiveBase64 = try c.decode(String.self, forKey: .archiveBase64)
        byAdmin = try c.decodeIfPresent(Bool.self, forKey: .byAdmin) ?? false
        uploadId = try c.decodeIfPresent(String.self, forKey: .uploadId)
    }
}

/// `egg.upload_chunk`: one piece (at most ``maxBytes`` of base64 text) of a large upload, so no
/// single AMQP message is huge. Chunk 0 goes to `rpc.egg-catalog`; its reply names the queue of
/// the catalogue instance that holds the upload, where the later chunks and the final
/// ``EggUploadRequest`` go. Answered with ``EggUploadChunkReceived``.
public struct EggUploadChunk: BusMessage, Equatable {
    public static let messageType = "egg.upload_chunk"
    public static let messageVersion = 1
    /// The most base64 characters in one chunk.
    public static let maxBytes = 512 * 1024
    public var uploadId: String
    /// 0, 1, 2, … in order.
    public var index: Int
    public var dataBase64: String

    public init(uploadId: String, index: Int, dataBase64: String) {
        self.uploadId = uploadId
        self.index = index
        self.dataBase64 = dataBase64
    }

    enum CodingKeys: String, CodingKey {
        case index
        case uploadId = "upload_id"
        case dataBase64 = "data_base64"
    }
}

/// The reply to an ``EggUploadChunk``: how much is held, and where to send the rest.
public struct EggUploadChunkReceived: BusMessage, Equatable {
    public static let messageType = "egg.upload_chunk_received"
    public static let messageVersion = 1
    public var uploadId: String
    public var receivedBytes: Int
    /// The RPC queue of the catalogue instance that holds this upload.
    public var queue: String

    public init(uploadId: String, receivedBytes: Int, queue: String) {
        self.uploadId = uploadId
        self.receivedBytes = receivedBytes
        self.queue = queue
    }

    enum CodingKeys: String, CodingKey {
        case queue
        case uploadId = "upload_id"
        case receivedBytes = "received_bytes"
    }
}

/// `egg.versions`: every version of an egg, newest first. Answered with ``EggVersionList``.
public struct EggVersionsRequest: BusMessage, Equatable {
    public static let messageType = "egg.versions"
    public static let messageVersion = 1
    public var name: String
    public init(name: String) { self.name = name }
}

/// The versions of one egg.
public struct EggVersionList: BusMessage, Equatable {
    public static let messageType = "egg.version_list"
    public static let messageVersion = 1
    public struct Version: Codable, Sendable, Equatable {
        public var version: String
        public var contentHash: String
        public var createdAt: String
        public var isCurrent: Bool

        public init(version: String, contentHash: String, createdAt: String, isCurrent: Bool) {
            self.version = version
            self.contentHash = contentHash
            self.createdAt = createdAt
            self.isCurrent = isCurrent
        }

        enum CodingKeys: String, CodingKey {
            case version
            case contentHash = "content_hash"
            case createdAt = "created_at"
            case isCurrent = "is_current"
        }
    }
    public var name: String
    public var versions: [Version]

    public init(name: String, versions: [Version]) {
        self.name = name
        self.versions = versions
    }
}
