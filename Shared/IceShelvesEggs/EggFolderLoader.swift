import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads eggs from folders (`eggs/<name>/`), refusing links, devices and oversized files.
public struct EggFolderLoader: Sendable {
    /// `MAX_EGG_SIZE_MB`: the most an egg's files may add up to.
    public let maxEggBytes: Int

    public init(maxEggBytes: Int = 100 * 1024 * 1024) {
        self.maxEggBytes = maxEggBytes
    }

    /// One egg's outcome: the egg, or why its folder was refused.
    public enum Outcome: Sendable {
        case loaded(Egg, path: String)
        case refused(path: String, reason: String)
    }

    /// Loads every egg folder under `root`. A broken egg is reported and the others still load.
    public func loadAll(root: String) throws -> [Outcome] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        } catch {
            throw EggError(root, "cannot read the eggs folder")
        }
        return names.compactMap { name in
            let path = root + "/" + name
            guard Self.kind(path) == .directory else { return nil }
            if name.hasPrefix(".") || name == "templates" { return nil }
            do {
                return .loaded(try load(folder: path, name: name), path: path)
            } catch {
                return .refused(path: path, reason: "\(error)")
            }
        }
    }

    /// Loads the egg in `folder`, whose name must be the egg's name.
    public func load(folder: String, name: String) throws -> Egg {
        var files: [Egg.File: String] = [:]
        var total = 0
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for entry in entries {
            let path = folder + "/" + entry
            switch Self.kind(path) {
            case .regular(let size):
                total += size
                if total > maxEggBytes {
                    throw EggValidationError(egg: name, problems: [EggError(entry, "the egg is larger than \(maxEggBytes / 1_048_576) MB")])
                }
            case .directory:
                continue
            case .other:
                throw EggValidationError(egg: name, problems: [EggError(entry, "links, devices and other special files are not allowed")])
            }
            guard let file = Egg.File(rawValue: entry) else { continue }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw EggValidationError(egg: name, problems: [EggError(entry, "is not UTF-8 text")])
            }
            files[file] = text
        }
        return try EggValidator.validate(files: files, expectedName: name)
    }

    enum Kind: Equatable {
        case regular(Int)
        case directory, other
    }

    /// What is at `path`, without following a symbolic link.
    static func kind(_ path: String) -> Kind {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .other }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular(Int(st.st_size))
        case S_IFDIR: return .directory
        default: return .other
        }
    }
}
