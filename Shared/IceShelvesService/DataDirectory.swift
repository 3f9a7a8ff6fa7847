import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A service's data folder (databases, keys): created 0700, its files 0600, the SQLite WAL
/// and SHM files included (the process's umask becomes 077). A folder, or a file in it, that
/// another user could write is refused: whoever can write there can replace a key or the
/// database.
public enum DataDirectory {
    public struct Unsafe: Error, CustomStringConvertible {
        public let description: String
    }

    /// Prepares `path`; throws ``Unsafe`` with a clear message.
    public static func prepare(_ path: String) throws {
        umask(0o077)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Unsafe(description: "data folder \(path) is not a folder") }
        } else {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try refuseIfOthersCanWrite(path, what: "data folder")
        for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] {
            let file = path + "/" + name
            try refuseIfOthersCanWrite(file, what: "file")
            if fm.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue {
                _ = chmod(file, 0o600)
            }
        }
    }

    static func refuseIfOthersCanWrite(_ path: String, what: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Unsafe(description: "cannot read the mode of \(path)") }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            throw Unsafe(description: "\(what) \(path) is a symbolic link; point the setting at the real path")
        }
        if info.st_mode & 0o022 != 0 {
            throw Unsafe(
                description:
                    "\(what) \(path) can be written by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod go-w on it, or choose another folder"
            )
        }
        if info.st_uid != geteuid() {
            throw Unsafe(description: "\(what) \(path) belongs to another user (uid \(info.st_uid)); IceShelves runs as uid \(geteuid())")
        }
    }
}
