import Foundation
import IceShelvesEggs
import IceShelvesTestSupport
import Testing

/// Archives are built by Python's tarfile, so hostile members (links, `..`, devices) are real.
@Suite("Egg archives")
struct ArchiveTests {
    static func archive(_ script: String) throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("egg-\(UUID().uuidString).tar.gz")
        defer { try? FileManager.default.removeItem(at: out) }
        let program = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w:gz")
            def add(name, data=b"", type=tarfile.REGTYPE, link=""):
                i = tarfile.TarInfo(name); i.type = type; i.linkname = link; i.size = len(data) if type == tarfile.REGTYPE else 0
                t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)
            meta = b'{"name":"up","version":"1.0.0","description":"d","category":"custom","egg_type":"hybrid","base_image":"i"}'
            \(script)
            t.close()
            """
        let (status, output) = try Tool.run("/usr/bin/env", ["python3", "-c", program, out.path])
        #expect(status == 0, "\(output)")
        return Array(try Data(contentsOf: out))
    }

    @Test func aFolderArchiveLoads() throws {
        let bytes = try Self.archive(
            """
            add("up/", type=tarfile.DIRTYPE); add("up/metadata.json", meta); add("up/cloud-init.yaml", b"#cloud-config\\nruncmd: [ls]\\n"); add("up/notes.txt", b"ignored")
            """
        )
        let (folder, files) = try EggArchive().files(from: bytes)
        #expect(folder == "up")
        let egg = try EggValidator.validate(files: files, expectedName: folder)
        #expect(egg.metadata.name == "up")
    }

    @Test(arguments: [
        (
            "add('up/metadata.json', meta); add('up/cloud-init.yaml', b'#cloud-config'); add('up/link', type=tarfile.SYMTYPE, link='/etc/passwd')",
            "no links"
        ),
        ("add('up/metadata.json', meta); add('up/hard', type=tarfile.LNKTYPE, link='up/metadata.json')", "no links"),
        ("add('up/../../etc/cron.d/x', b'x')", "'..'"),
        ("add('/etc/passwd', b'x')", "absolute"),
        ("add('up/dev', type=tarfile.CHRTYPE)", "no links, devices"),
        ("add('up/a/b/c', b'x')", "nested"),
        ("add('a/metadata.json', meta); add('b/cloud-init.yaml', b'#cloud-config')", "more than one folder"),
    ])
    func hostileArchivesAreRefused(_ script: String, _ expected: String) throws {
        let bytes = try Self.archive(script)
        do {
            _ = try EggArchive().files(from: bytes)
            Issue.record("accepted a hostile archive")
        } catch {
            #expect("\(error)".contains(expected), "got: \(error)")
        }
    }

    @Test func aZipBombIsStoppedAtTheLimit() throws {
        let bytes = try Self.archive("add('up/README.md', b'0' * (8 * 1024 * 1024))")
        #expect(bytes.count < 100_000)
        #expect(throws: EggError.self) { try EggArchive(maxEggBytes: 1_048_576).files(from: bytes) }
    }

    @Test func garbageIsNotGzip() {
        #expect(throws: EggError.self) { try EggArchive().files(from: Array("not an archive".utf8)) }
        #expect(throws: EggError.self) { try EggArchive().files(from: []) }
    }
}
