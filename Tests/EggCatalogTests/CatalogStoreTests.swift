import Foundation
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesTestSupport
import Testing

@testable import EggCatalog

@Suite("Catalogue store")
struct CatalogStoreTests {
    static let eggsFolder = Tool.eggsFolder()

    func store() async throws -> CatalogStore {
        let store = CatalogStore(database: try CatalogDatabase.inMemory())
        let eggs = try EggFolderLoader().loadAll(root: Self.eggsFolder).compactMap { if case .loaded(let e, _) = $0 { e } else { nil } }
        let report = try await store.importEggs(eggs)
        #expect(report.created == 5)
        return store
    }

    static func egg(_ name: String, cloudInit: String = "#cloud-config\nruncmd: [ls]\n", version: String = "1.0.0", tags: String = "[]") throws -> Egg
    {
        try EggValidator.validate(files: [
            .metadata:
                #"{"name":"\#(name)","version":"\#(version)","description":"about \#(name)","category":"custom","egg_type":"hybrid","base_image":"i","tags":\#(tags)}"#,
            .cloudInit: cloudInit,
        ])
    }

    @Test func importIsIdempotent() async throws {
        let store = try await store()
        let eggs = try EggFolderLoader().loadAll(root: Self.eggsFolder).compactMap { if case .loaded(let e, _) = $0 { e } else { nil } }
        #expect(try await store.importEggs(eggs) == .init(created: 0, newVersions: 0, unchanged: 5))
    }

    @Test func listFiltersSearchesAndPaginates() async throws {
        let store = try await store()
        #expect(try await store.list(.init()).total == 5)
        #expect(try await store.list(.init(category: "docker")).eggs.map(\.name) == ["ubuntu-docker"])
        #expect(try await store.list(.init(eggType: .hybrid)).eggs.map(\.name) == ["debian-hello"])
        #expect(try await store.list(.init(tag: "k8s")).eggs.map(\.name) == ["ubuntu-k8s-node"])
        #expect(try await store.list(.init(search: "nginx")).eggs.map(\.name) == ["ubuntu-nginx"])
        #expect(try await store.list(.init(search: "%")).total == 0)
        let page = try await store.list(.init(page: 2, perPage: 2))
        #expect(page.eggs.count == 2)
        #expect(page.totalPages == 3)
        #expect(page.eggs.first?.name == "ubuntu-docker")
        await #expect(throws: CatalogError.self) { try await store.list(.init(perPage: 101)) }
    }

    @Test func everyChangeMakesANewImmutableVersion() async throws {
        let store = try await store()
        let first = try await store.create(Self.egg("versioned"), source: "test")
        let second = try await store.upsert(Self.egg("versioned", cloudInit: "#cloud-config\nruncmd: [pwd]\n", version: "1.1.0"), source: "test")
        #expect(first.egg.contentHash != second.egg.contentHash)
        let versions = try await store.versions(of: "versioned")
        #expect(versions.versions.map(\.version) == ["1.1.0", "1.0.0"])
        #expect(versions.versions.map(\.isCurrent) == [true, false])
        let old = try await store.get(.init(name: "versioned", version: "1.0.0"))
        #expect(old.files["cloud-init.yaml"]?.contains("ls") == true)
        let byHash = try await store.get(.init(name: "versioned", version: String(first.egg.contentHash.prefix(12))))
        #expect(byHash.egg.version == "1.0.0")
        // Saving the same content again changes nothing.
        _ = try await store.upsert(Self.egg("versioned", cloudInit: "#cloud-config\nruncmd: [pwd]\n", version: "1.1.0"), source: "test")
        #expect(try await store.versions(of: "versioned").versions.count == 2)
    }

    /// Seen by a user: an operator re-uploaded the built-in `debian-hello` 1.0.0 with other
    /// content; the catalogue then held two different 1.0.0s and the new one became current.
    @Test func aPublishedVersionNeverChangesAndBuiltInsTakeNewVersionsFromAnAdminOnly() async throws {
        let store = try await store()
        let builtIn = try await store.get(.init(name: "debian-hello"))
        #expect(builtIn.isBuiltIn)
        let sameVersion = try Self.egg("debian-hello", cloudInit: "#cloud-config\nruncmd: [id]\n", version: builtIn.egg.version)
        await #expect(throws: CatalogError.forbidden("'debian-hello' is a built-in egg: only an admin may publish a new version of it")) {
            try await store.upsert(sameVersion, source: "upload", byAdmin: false)
        }
        let conflict = await #expect(throws: CatalogError.self) { try await store.upsert(sameVersion, source: "upload", byAdmin: true) }
        #expect(conflict?.code == .conflict)
        #expect(conflict?.message.contains("already published with other content") == true)
        #expect(try await store.get(.init(name: "debian-hello")).egg.contentHash == builtIn.egg.contentHash, "the current version did not move")
        #expect(try await store.versions(of: "debian-hello").versions.count == 1)
        // An admin publishes a new version.
        let next = try await store.upsert(
            Self.egg("debian-hello", cloudInit: "#cloud-config\nruncmd: [id]\n", version: "9.0.0"),
            source: "upload",
            byAdmin: true
        )
        #expect(next.egg.version == "9.0.0" && !next.isBuiltIn)
        // Any egg: the same version with other content is refused; the same content is not.
        _ = try await store.create(Self.egg("mine"), source: "upload")
        await #expect(throws: CatalogError.self) {
            try await store.upsert(Self.egg("mine", cloudInit: "#cloud-config\nruncmd: [pwd]\n"), source: "upload", byAdmin: false)
        }
        _ = try await store.upsert(Self.egg("mine"), source: "upload", byAdmin: false)
    }

    @Test func createRefusesATakenName() async throws {
        let store = try await store()
        await #expect(throws: CatalogError.conflict("an egg named 'ubuntu-base' already exists")) {
            try await store.create(Self.egg("ubuntu-base"), source: "test")
        }
    }

    @Test func templatesCreateConcreteEggs() async throws {
        let store = try await store()
        let template = try await store.egg(named: "ubuntu-nginx")
        let egg = try TemplateInstantiator.instantiate(
            template,
            request: .init(
                name: "my-site",
                template: "ubuntu-nginx",
                variables: ["hostname": .string("web1"), "site_title": .string("Evil\n- runcmd: [reboot]")]
            )
        )
        #expect(egg.metadata.variables.isEmpty)
        #expect(egg.cloudInit.contains("web1"))
        #expect(!egg.cloudInit.contains("{{"))
        let saved = try await store.create(egg, source: "template")
        #expect(saved.egg.name == "my-site")
        #expect(throws: EggValidationError.self) {
            try TemplateInstantiator.instantiate(
                template,
                request: .init(name: "x", template: "ubuntu-nginx", variables: ["hostname": .string("Not Valid!")])
            )
        }
        #expect(throws: EggValidationError.self) {
            try TemplateInstantiator.instantiate(
                template,
                request: .init(name: "x", template: "ubuntu-nginx", variables: ["undeclared": .string("v")])
            )
        }
    }
}
