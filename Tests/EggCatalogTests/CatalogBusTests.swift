import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesTestSupport
import Logging
import Testing

@testable import EggCatalog

/// The catalogue's RPC handlers behind a real RabbitMQ.
@Suite(
    "Catalogue over the bus (real RabbitMQ)",
    .enabled(if: ProcessInfo.processInfo.environment["ICESHELVES_TEST_AMQP_URL"] != nil, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)")
)
struct CatalogBusTests {
    func withCatalog(_ body: (AMQPClient, String) async throws -> Void) async throws {
        let logger = {
            var l = Logger(label: "catalog-test")
            l.logLevel = .warning
            return l
        }()
        let url = try AMQPURL(parsing: ProcessInfo.processInfo.environment["ICESHELVES_TEST_AMQP_URL"]!)
        let client = AMQPClient(configuration: .init(url: url, name: "catalog-test"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        let store = CatalogStore(database: try CatalogDatabase.inMemory())
        try await CatalogImporter(store: store, loader: EggFolderLoader()).run(folder: CatalogStoreTests.eggsFolder, logger: logger)
        var router = RPCRouter()
        CatalogHandlers(store: store, archive: EggArchive(maxEggBytes: 1_048_576)).register(on: &router)
        let routes = router
        let queue = "test.rpc.catalog.\(UUID().uuidString.prefix(8))"
        try await client.declare(RPCServer.topology(queue: queue))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await RPCServer(client: client, queue: queue, router: routes, logger: logger).run() }
            try await body(client, queue)
            group.cancelAll()
        }
        try await client.deleteQueue(queue)
        await client.shutdown()
    }

    @Test func listSearchAndGet() async throws {
        try await withCatalog { client, queue in
            let page = try await client.call(Envelope(EggListRequest(search: "docker")), queue: queue, expecting: EggPage.self).payload
            #expect(page.eggs.map(\.name) == ["ubuntu-docker"])
            let detail = try await client.call(Envelope(EggGetRequest(id: page.eggs[0].id)), queue: queue, expecting: EggDetail.self).payload
            #expect(detail.files["lxd-profile.yaml"]?.contains("security.nesting") == true)
            let templates = try await client.call(Envelope(EggListRequest(templatesOnly: true)), queue: queue, expecting: EggPage.self).payload
            #expect(templates.total == 5)
        }
    }

    @Test func createFromTemplateAndVersions() async throws {
        try await withCatalog { client, queue in
            let created = try await client.call(
                Envelope(
                    EggCreateFromTemplateRequest(name: "hello-two", template: "debian-hello", variables: ["greeting": .string("hi: {there}\n---")])
                ),
                queue: queue,
                expecting: EggDetail.self
            ).payload
            #expect(created.egg.name == "hello-two")
            if Tool.cloudInitAvailable {
                let (status, out) = try Tool.cloudInitSchema(created.files["cloud-init.yaml"]!)
                #expect(status == 0, "cloud-init schema refused the egg made from the template: \(out)")
            }
            await #expect(throws: RPCError.self) {
                _ = try await client.call(
                    Envelope(EggCreateFromTemplateRequest(name: "hello-two", template: "debian-hello")),
                    queue: queue,
                    expecting: EggDetail.self
                )
            }
            let versions = try await client.call(Envelope(EggVersionsRequest(name: "hello-two")), queue: queue, expecting: EggVersionList.self)
                .payload
            #expect(versions.versions.map(\.contentHash) == [created.egg.contentHash])
        }
    }

    @Test func uploadAndBadEggRefusedWithAReason() async throws {
        try await withCatalog { client, queue in
            let good = try ArchiveMaker.make(name: "uploaded", cloudInit: "#cloud-config\nruncmd: [ls]\n")
            let detail = try await client.call(
                Envelope(EggUploadRequest(archiveBase64: good.base64EncodedString())),
                queue: queue,
                expecting: EggDetail.self
            ).payload
            #expect(detail.egg.name == "uploaded")
            let bad = try ArchiveMaker.make(name: "broken", cloudInit: "#cloud-config\nruncmds: [ls]\n")
            do {
                _ = try await client.call(
                    Envelope(EggUploadRequest(archiveBase64: bad.base64EncodedString())),
                    queue: queue,
                    expecting: EggDetail.self
                )
                Issue.record("a bad egg was accepted")
            } catch let error as RPCError {
                #expect(error.code == "bad_request")
                #expect(error.message.contains("unknown cloud-config key 'runcmds'"))
            }
            await #expect(throws: RPCError.self) {
                _ = try await client.call(Envelope(EggUploadRequest(archiveBase64: "%%%")), queue: queue, expecting: EggDetail.self)
            }
        }
    }
}

/// Makes a tar.gz of one egg folder with the real `tar`.
enum ArchiveMaker {
    static func make(name: String, cloudInit: String) throws -> Data {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-src-\(UUID().uuidString)")
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"name":"\#(name)","version":"1.0.0","description":"d","category":"custom","egg_type":"hybrid","base_image":"i"}"#
            .write(to: folder.appendingPathComponent("metadata.json"), atomically: true, encoding: .utf8)
        try cloudInit.write(to: folder.appendingPathComponent("cloud-init.yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("egg.tar.gz")
        let (status, output) = try Tool.run("/bin/tar", ["-C", dir.path, "-czf", out.path, name])
        guard status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["tar": output]) }
        return try Data(contentsOf: out)
    }
}
