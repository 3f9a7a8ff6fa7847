import Foundation
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesTestSupport
import Testing

@Suite("Built-in eggs")
struct BuiltInEggTests {
    @Test func allBuiltInEggsLoadAndValidate() throws {
        let outcomes = try EggFolderLoader().loadAll(root: Fixtures.eggsFolder)
        var loaded: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .loaded(let egg, _): loaded.append(egg.metadata.name)
            case .refused(let path, let reason): Issue.record("\(path) refused: \(reason)")
            }
        }
        #expect(loaded.sorted() == Fixtures.builtIn)
    }

    @Test(arguments: Fixtures.builtIn)
    func rendersWithDefaultsIntoValidCloudConfig(_ name: String) throws {
        let egg = try EggFolderLoader().load(folder: Fixtures.eggsFolder + "/" + name, name: name)
        let values = try VariableResolver.resolve([:], declared: egg.metadata.variables)
        let rendered = try TemplateRenderer.render(yaml: egg.cloudInit, values: values, file: "cloud-init.yaml", header: "#cloud-config")
        #expect(rendered.hasPrefix("#cloud-config\n"))
        #expect(!rendered.contains("{{"))
        _ = try EggValidator.validate(files: [.metadata: egg.files[.metadata]!, .cloudInit: rendered], expectedName: name)
    }

    @Test(
        .enabled(if: Tool.cloudInitAvailable, "set ICESHELVES_TEST_CLOUD_INIT=1 with cloud-init installed (scripts/test does)"),
        arguments: Fixtures.builtIn
    )
    func realCloudInitSchemaAcceptsTheEggAndItsRendering(_ name: String) throws {
        let egg = try EggFolderLoader().load(folder: Fixtures.eggsFolder + "/" + name, name: name)
        let (status, out) = try Tool.cloudInitSchema(egg.cloudInit)
        #expect(status == 0, "cloud-init schema refused \(name): \(out)")
        let values = try VariableResolver.resolve(
            ["ssh_authorized_keys": .list(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEYEXAMPLEKEY user@host"])],
            declared: egg.metadata.variables
        )
        let rendered = try TemplateRenderer.render(yaml: egg.cloudInit, values: values, file: "cloud-init.yaml", header: "#cloud-config")
        let (status2, out2) = try Tool.cloudInitSchema(rendered)
        #expect(status2 == 0, "cloud-init schema refused rendered \(name): \(out2)")
        let defaults = try TemplateRenderer.render(
            yaml: egg.cloudInit,
            values: try VariableResolver.resolve([:], declared: egg.metadata.variables),
            file: "cloud-init.yaml",
            header: "#cloud-config"
        )
        let (status3, out3) = try Tool.cloudInitSchema(defaults)
        #expect(status3 == 0, "cloud-init schema refused \(name) rendered with defaults: \(out3)")
    }

    @Test func contentHashIsStableAndSensitive() throws {
        let a = try EggFolderLoader().load(folder: Fixtures.eggsFolder + "/ubuntu-base", name: "ubuntu-base")
        let b = try EggFolderLoader().load(folder: Fixtures.eggsFolder + "/ubuntu-base", name: "ubuntu-base")
        #expect(a.contentHash == b.contentHash)
        #expect(a.contentHash.count == 64)
        var files = a.files
        files[.readme] = (files[.readme] ?? "") + "x"
        #expect(Egg(metadata: a.metadata, files: files).contentHash != a.contentHash)
    }
}

@Suite("Eggs folder")
struct EggsFolderTests {
    @Test func aBrokenEggIsReportedWithItsPathAndTheOthersStillLoad() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("eggs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ egg: String, _ file: String, _ text: String) throws {
            let dir = root.appendingPathComponent(egg)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        try write("good", "metadata.json", Fixtures.metadata(name: "good"))
        try write("good", "cloud-init.yaml", "#cloud-config\nruncmd: [ls]\n")
        try write("broken", "metadata.json", Fixtures.metadata(name: "broken"))
        try write("broken", "cloud-init.yaml", "#cloud-config\npackages: vim\n")
        try write("linked", "metadata.json", Fixtures.metadata(name: "linked"))
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("linked/cloud-init.yaml").path,
            withDestinationPath: "/etc/passwd"
        )

        let outcomes = try EggFolderLoader().loadAll(root: root.path)
        var loaded: [String] = []
        var refused: [String: String] = [:]
        for o in outcomes {
            switch o {
            case .loaded(let egg, _): loaded.append(egg.metadata.name)
            case .refused(let path, let reason): refused[URL(fileURLWithPath: path).lastPathComponent] = reason
            }
        }
        #expect(loaded == ["good"])
        #expect(refused["broken"]?.contains("'packages' must be a list") == true)
        #expect(refused["linked"]?.contains("links, devices and other special files are not allowed") == true)
    }

    @Test func theSizeLimitApplies() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("eggs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("big")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Fixtures.metadata(name: "big").write(to: dir.appendingPathComponent("metadata.json"), atomically: true, encoding: .utf8)
        try "#cloud-config\n".write(to: dir.appendingPathComponent("cloud-init.yaml"), atomically: true, encoding: .utf8)
        try String(repeating: "x", count: 2_000_000).write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        #expect(throws: EggValidationError.self) { try EggFolderLoader(maxEggBytes: 1_048_576).load(folder: dir.path, name: "big") }
    }
}
