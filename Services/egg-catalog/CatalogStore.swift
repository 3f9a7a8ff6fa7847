import Foundation
import GRDB
import IceShelvesContracts
import IceShelvesEggs

/// The egg catalogue: eggs and their immutable versions in SQLite.
///
/// Every change that alters an egg's files adds a version (its declared semver plus the SHA-256
/// of its files) and makes it current; old versions stay readable by version or hash.
struct CatalogStore: Sendable {
    let database: CatalogDatabase

    /// What an import did.
    struct ImportReport: Equatable {
        var created = 0
        var newVersions = 0
        var unchanged = 0
        /// Eggs whose version is already published with other content (left as they were).
        var refused: [String] = []
    }

    // MARK: Writing

    /// Imports eggs from the folder: new eggs are created, changed ones get a new version.
    func importEggs(_ eggs: [Egg], source: String = "import") async throws -> ImportReport {
        let now = Self.timestamp()
        return try await database.writer.write { db in
            var report = ImportReport()
            for egg in eggs {
                switch try Self.save(egg, source: source, now: now, db: db) {
                case .created: report.created += 1
                case .newVersion: report.newVersions += 1
                case .unchanged: report.unchanged += 1
                case .versionTaken(let existing): report.refused.append(Self.versionTakenMessage(egg, existing))
                }
            }
            return report
        }
    }

    /// Creates a new egg; refuses when the name is taken.
    func create(_ egg: Egg, source: String) async throws -> EggDetail {
        let name = egg.metadata.name
        try await database.writer.write { db in
            if try Int64.fetchOne(db, sql: "SELECT id FROM egg WHERE name = ?", arguments: [name]) != nil {
                throw CatalogError.conflict("an egg named '\(name)' already exists")
            }
            if case .versionTaken(let existing) = try Self.save(egg, source: source, now: Self.timestamp(), db: db) {
                throw CatalogError.conflict(Self.versionTakenMessage(egg, existing))
            }
        }
        return try await get(EggGetRequest(name: name))
    }

    /// Saves an egg as a new egg or a new version of an existing one.
    ///
    /// A published version never changes: the same name and version with other content is a
    /// conflict. A built-in egg (imported from the eggs folder) gets new versions from an admin only.
    func upsert(_ egg: Egg, source: String, byAdmin: Bool = true) async throws -> EggDetail {
        let name = egg.metadata.name
        try await database.writer.write { db in
            if !byAdmin,
                try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM egg e JOIN egg_version v ON v.egg_id = e.id WHERE e.name = ? AND v.source = 'import' LIMIT 1",
                    arguments: [name]
                ) == true
            {
                throw CatalogError.forbidden("'\(name)' is a built-in egg: only an admin may publish a new version of it")
            }
            if case .versionTaken(let existing) = try Self.save(egg, source: source, now: Self.timestamp(), db: db) {
                throw CatalogError.conflict(Self.versionTakenMessage(egg, existing))
            }
        }
        return try await get(EggGetRequest(name: name))
    }

    enum SaveOutcome {
        case created, newVersion, unchanged
        /// The version number is published with other content (its content hash here).
        case versionTaken(String)
    }

    static func versionTakenMessage(_ egg: Egg, _ existingHash: String) -> String {
        "version \(egg.metadata.version) of egg '\(egg.metadata.name)' is already published with other content "
            + "(sha256 \(existingHash.prefix(12))…); a published version never changes: give this one a new version"
    }

    private static func save(_ egg: Egg, source: String, now: String, db: Database) throws -> SaveOutcome {
        let m = egg.metadata
        let hash = egg.contentHash
        var outcome = SaveOutcome.newVersion
        let eggId: Int64
        if let existing = try Row.fetchOne(db, sql: "SELECT id, current_version_id FROM egg WHERE name = ?", arguments: [m.name]) {
            eggId = existing["id"]
            if let taken = try String.fetchOne(
                db,
                sql: "SELECT content_hash FROM egg_version WHERE egg_id = ? AND version = ? AND content_hash != ? LIMIT 1",
                arguments: [eggId, m.version, hash]
            ) {
                return .versionTaken(taken)
            }
            if let versionId = try Int64.fetchOne(
                db,
                sql: "SELECT id FROM egg_version WHERE egg_id = ? AND content_hash = ?",
                arguments: [eggId, hash]
            ) {
                if versionId == existing["current_version_id"] { return .unchanged }
                // The same content again: it becomes current (rolling back to it is allowed).
                try db.execute(sql: "UPDATE egg SET current_version_id = ? WHERE id = ?", arguments: [versionId, eggId])
                return .newVersion
            }
        } else {
            try db.execute(sql: "INSERT INTO egg (name, is_active, created_on) VALUES (?, 1, ?)", arguments: [m.name, now])
            eggId = db.lastInsertedRowID
            outcome = .created
        }
        let tags = String(decoding: try JSONEncoder().encode(m.tags), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO egg_version (egg_id, version, content_hash, display_name, description, category, egg_type, base_image,
                    tags, is_template, metadata_json, cloud_init, lxd_profile, kvm_config, readme, source, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                eggId, m.version, hash, m.displayName ?? m.name, m.description, m.category.rawValue, m.eggType.rawValue,
                m.baseImage, tags, !m.variables.isEmpty, egg.files[.metadata] ?? "{}", egg.cloudInit,
                egg.files[.lxdProfile], egg.files[.kvmConfig], egg.files[.readme], source, now,
            ]
        )
        try db.execute(sql: "UPDATE egg SET current_version_id = ? WHERE id = ?", arguments: [db.lastInsertedRowID, eggId])
        return outcome
    }

    // MARK: Reading

    static let summaryColumns = """
        e.id, e.name, e.is_active, e.created_on, v.version, v.content_hash, v.display_name, v.description, v.category,
        v.egg_type, v.base_image, v.tags, v.is_template
        """

    func list(_ r: EggListRequest) async throws -> EggPage {
        guard (1...100).contains(r.perPage) else { throw CatalogError.badRequest("per_page must be 1 to 100") }
        guard r.page >= 1, r.page <= 1_000_000 else { throw CatalogError.badRequest("page must be 1 or more") }
        var clauses: [String] = []
        var args: [DatabaseValue] = []
        if !r.includeInactive { clauses.append("e.is_active = 1") }
        if r.templatesOnly { clauses.append("v.is_template = 1") }
        if let c = r.category {
            clauses.append("v.category = ?")
            args.append(c.databaseValue)
        }
        if let t = r.eggType {
            clauses.append("v.egg_type = ?")
            args.append(t.rawValue.databaseValue)
        }
        if let tag = r.tag {
            clauses.append("EXISTS (SELECT 1 FROM json_each(v.tags) WHERE json_each.value = ?)")
            args.append(tag.databaseValue)
        }
        if let search = r.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            let like = "%" + Self.escapeLike(String(search.prefix(200))) + "%"
            clauses.append(
                "(e.name LIKE ? ESCAPE '\\' OR v.display_name LIKE ? ESCAPE '\\' OR v.description LIKE ? ESCAPE '\\' OR v.tags LIKE ? ESCAPE '\\')"
            )
            args += Array(repeating: like.databaseValue, count: 4)
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let from = "FROM egg e JOIN egg_version v ON v.id = e.current_version_id \(whereSQL)"
        let filter = StatementArguments(args)
        let perPage = r.perPage
        let offset = (r.page - 1) * r.perPage
        return try await database.writer.read { db in
            // One scan finds the matching ids in order (the total is their count); the page's
            // rows are then read by primary key.
            let ids = try Int64.fetchAll(db, sql: "SELECT e.id \(from) ORDER BY e.name", arguments: filter)
            let pageIds = Array(ids.dropFirst(offset).prefix(perPage))
            var eggs: [EggSummary] = []
            if !pageIds.isEmpty {
                let marks = Array(repeating: "?", count: pageIds.count).joined(separator: ",")
                eggs = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.summaryColumns) FROM egg e JOIN egg_version v ON v.id = e.current_version_id
                        WHERE e.id IN (\(marks)) ORDER BY e.name
                        """,
                    arguments: StatementArguments(pageIds)
                ).map(Self.summary)
            }
            return EggPage(
                eggs: eggs,
                total: ids.count,
                page: r.page,
                perPage: perPage,
                totalPages: max(1, (ids.count + perPage - 1) / perPage)
            )
        }
    }

    func get(_ r: EggGetRequest) async throws -> EggDetail {
        let (condition, key): (String, DatabaseValue)
        if let id = r.id {
            (condition, key) = ("e.id = ?", id.databaseValue)
        } else if let name = r.name {
            (condition, key) = ("e.name = ?", name.databaseValue)
        } else {
            throw CatalogError.badRequest("give an egg id or name")
        }
        var sql =
            "SELECT \(Self.summaryColumns), v.metadata_json, v.cloud_init, v.lxd_profile, v.kvm_config, v.readme, v.source FROM egg e JOIN egg_version v "
        var args: [DatabaseValue] = [key]
        if let version = r.version {
            sql +=
                "ON v.egg_id = e.id WHERE \(condition) AND (v.version = ? OR v.content_hash = ? OR substr(v.content_hash, 1, 12) = ?) ORDER BY v.id DESC LIMIT 1"
            args += Array(repeating: version.databaseValue, count: 3)
        } else {
            sql += "ON v.id = e.current_version_id WHERE \(condition)"
        }
        let arguments = StatementArguments(args)
        let query = sql
        // Rows are not Sendable: build the Sendable detail inside the read, so GRDB's async
        // read (off the cooperative pool) is the one used.
        let detail = try await database.writer.read { db -> EggDetail? in
            guard let row = try Row.fetchOne(db, sql: query, arguments: arguments) else { return nil }
            var files: [String: String] = [Egg.File.cloudInit.rawValue: row["cloud_init"]]
            if let t: String = row["lxd_profile"] { files[Egg.File.lxdProfile.rawValue] = t }
            if let t: String = row["kvm_config"] { files[Egg.File.kvmConfig.rawValue] = t }
            if let t: String = row["readme"] { files[Egg.File.readme.rawValue] = t }
            return EggDetail(egg: Self.summary(row), metadataJSON: row["metadata_json"], files: files, source: row["source"])
        }
        guard let detail else {
            let what = r.id.map { "id \($0)" } ?? "'\((r.name ?? "").prefix(64))'"
            throw CatalogError.notFound("no egg \(what)" + (r.version.map { " at version '\($0.prefix(64))'" } ?? ""))
        }
        return detail
    }

    func versions(of name: String) async throws -> EggVersionList {
        let versions = try await database.writer.read { db -> [EggVersionList.Version] in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT v.version, v.content_hash, v.created_at, v.id = e.current_version_id AS is_current
                    FROM egg e JOIN egg_version v ON v.egg_id = e.id WHERE e.name = ? ORDER BY v.id DESC
                    """,
                arguments: [name]
            ).map {
                .init(version: $0["version"], contentHash: $0["content_hash"], createdAt: $0["created_at"], isCurrent: $0["is_current"])
            }
        }
        guard !versions.isEmpty else { throw CatalogError.notFound("no egg named '\(name.prefix(64))'") }
        return EggVersionList(name: name, versions: versions)
    }

    /// The files of an egg's current version, as an ``Egg`` again (for updates and templates).
    func egg(named name: String) async throws -> Egg {
        let detail = try await get(EggGetRequest(name: name))
        var files: [Egg.File: String] = [.metadata: detail.metadataJSON]
        for (k, v) in detail.files { if let f = Egg.File(rawValue: k) { files[f] = v } }
        return try EggValidator.validate(files: files)
    }

    // MARK: Helpers

    static func summary(_ row: Row) -> EggSummary {
        let tagsText: String = row["tags"]
        let tags = (try? JSONDecoder().decode([String].self, from: Data(tagsText.utf8))) ?? []
        return EggSummary(
            id: row["id"],
            name: row["name"],
            displayName: row["display_name"],
            description: row["description"],
            version: row["version"],
            contentHash: row["content_hash"],
            category: row["category"],
            eggType: EggType(rawValue: row["egg_type"]) ?? .hybrid,
            baseImage: row["base_image"],
            tags: tags,
            isActive: row["is_active"],
            isTemplate: row["is_template"],
            createdOn: row["created_on"]
        )
    }

    static func escapeLike(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    static func timestamp() -> String { Date().formatted(.iso8601) }
}
