import Foundation
import IceShelvesService
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Data folders: 0700, files 0600, nothing others can write")
struct DataDirectoryTests {
    func scratch() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString.prefix(8))").path }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        _ = stat(path, &info)
        return info.st_mode & 0o777
    }

    @Test func aNewFolderIsPrivateAndSoAreTheFilesMadeInIt() throws {
        let path = scratch() + "/inner"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try DataDirectory.prepare(path)
        #expect(mode(path) == 0o700)
        FileManager.default.createFile(atPath: path + "/gateway.sqlite-wal", contents: Data("x".utf8))
        #expect(mode(path + "/gateway.sqlite-wal") == 0o600, "the umask makes new files 0600")
    }

    @Test func aFolderOrAKeyOthersCanWriteIsRefused() throws {
        let path = scratch()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = chmod(path, 0o777)
        #expect(throws: DataDirectory.Unsafe.self) { try DataDirectory.prepare(path) }
        _ = chmod(path, 0o700)
        FileManager.default.createFile(atPath: path + "/master.key", contents: Data(count: 32))
        _ = chmod(path + "/master.key", 0o666)
        let error = #expect(throws: DataDirectory.Unsafe.self) { try DataDirectory.prepare(path) }
        #expect(error?.description.contains("master.key") == true)
        _ = chmod(path + "/master.key", 0o644)
        try DataDirectory.prepare(path)
        #expect(mode(path + "/master.key") == 0o600)
    }
}
