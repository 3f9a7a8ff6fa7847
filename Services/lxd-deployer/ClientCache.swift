import Crypto
import Foundation
import IceShelvesContracts
import IceShelvesLXD

/// One ``LXDClient`` per distinct connection, so jobs for the same cluster reuse open HTTPS
/// connections and SSH tunnels. A connection that fails to open is not cached.
actor ClientCache {
    private let connector: LXDConnector
    private var clients: [String: Task<LXDClient, any Error>] = [:]

    init(connector: LXDConnector) { self.connector = connector }

    func client(for connection: ClusterConnection) async throws -> LXDClient {
        let key = Self.key(connection)
        if let existing = clients[key] { return try await existing.value }
        let connector = connector
        let task = Task { try await connector.connect(connection) }
        clients[key] = task
        do {
            return try await task.value
        } catch {
            clients[key] = nil
            throw error
        }
    }

    private static func key(_ c: ClusterConnection) -> String {
        let data = (try? JSONEncoder().encode(c)) ?? Data(c.description.utf8)
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
