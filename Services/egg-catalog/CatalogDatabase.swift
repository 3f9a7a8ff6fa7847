import GRDB

/// The catalogue's SQLite database and its migrations.
struct CatalogDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Opens (or creates) the database at `path` and migrates it.
    static func open(path: String) throws -> CatalogDatabase {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // Lists scan version rows that carry the eggs' files: keep the pages in memory
            // (mapped, and a 64 MiB cache per connection) instead of copying them in each query.
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try migrator.migrate(pool)
        return CatalogDatabase(writer: pool)
    }

    /// An in-memory database, for tests and benchmarks.
    static func inMemory() throws -> CatalogDatabase {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON") }
        let queue = try DatabaseQueue(configuration: config)
        try migrator.migrate(queue)
        return CatalogDatabase(writer: queue)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: eggs and immutable versions") { db in
            try db.create(table: "egg") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("is_active", .boolean).notNull().defaults(to: true)
                t.column("current_version_id", .integer)
                t.column("created_on", .text).notNull()
            }
            try db.create(table: "egg_version") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("egg_id", .integer).notNull().indexed().references("egg", onDelete: .cascade)
                t.column("version", .text).notNull()
                t.column("content_hash", .text).notNull()
                t.column("display_name", .text).notNull()
                t.column("description", .text).notNull()
                t.column("category", .text).notNull()
                t.column("egg_type", .text).notNull()
                t.column("base_image", .text).notNull()
                t.column("tags", .text).notNull()
                t.column("is_template", .boolean).notNull()
                t.column("metadata_json", .text).notNull()
                t.column("cloud_init", .text).notNull()
                t.column("lxd_profile", .text)
                t.column("kvm_config", .text)
                t.column("readme", .text)
                t.column("source", .text).notNull()
                t.column("created_at", .text).notNull()
                t.uniqueKey(["egg_id", "content_hash"])
            }
            try db.create(index: "egg_version_category", on: "egg_version", columns: ["category"])
        }
        return migrator
    }
}
