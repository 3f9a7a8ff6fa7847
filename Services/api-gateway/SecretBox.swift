import Crypto
import Foundation

/// Seals cluster secrets (client keys, SSH keys) with AES-GCM under a 256-bit master key kept in
/// `<data dir>/master.key` (mode 0600, created on first start).
struct SecretBox: Sendable {
    private let keyBytes: [UInt8]

    init(key: SymmetricKey) { keyBytes = key.withUnsafeBytes { Array($0) } }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    static func load(directory: String) throws -> SecretBox {
        let path = directory + "/master.key"
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw APIError(.internalServerError, "\(path) is not a 256-bit key") }
            return SecretBox(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, "cannot write \(path)")
        }
        return SecretBox(key: key)
    }

    func seal(_ secrets: [String: String]) throws -> Data {
        let plain = try JSONEncoder().encode(secrets)
        return try AES.GCM.seal(plain, using: key).combined!
    }

    func open(_ sealed: Data) throws -> [String: String] {
        let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
        return try JSONDecoder().decode([String: String].self, from: plain)
    }
}
