import Crypto
import Foundation

/// An egg: its metadata and the text of its files, as loaded and validated.
public struct Egg: Sendable, Equatable {
    /// The files an egg may have, in the order they are hashed.
    public enum File: String, CaseIterable, Sendable {
        case metadata = "metadata.json"
        case cloudInit = "cloud-init.yaml"
        case lxdProfile = "lxd-profile.yaml"
        case kvmConfig = "kvm-config.xml"
        case readme = "README.md"
    }

    public let metadata: EggMetadata
    /// The text of each file present, by file.
    public let files: [File: String]

    public init(metadata: EggMetadata, files: [File: String]) {
        self.metadata = metadata
        self.files = files
    }

    public var cloudInit: String { files[.cloudInit] ?? "" }

    /// SHA-256 over every file's name and bytes, in a fixed order: equal eggs hash equal.
    public var contentHash: String {
        var hasher = SHA256()
        for file in File.allCases {
            guard let text = files[file] else { continue }
            hasher.update(data: Array(file.rawValue.utf8) + [0] + Array(String(text.utf8.count).utf8) + [0])
            hasher.update(data: Array(text.utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
