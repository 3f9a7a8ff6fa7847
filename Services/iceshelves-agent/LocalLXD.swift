import Foundation
import IceShelvesContracts
import IceShelvesLXD
import Logging

/// The LXD on this machine, over its unix socket, found as the original agent (pylxd) finds it:
/// `$LXD_DIR/unix.socket`, else the snap's socket if present, else `/var/lib/lxd/unix.socket`.
/// One client, opened on first use and opened again after a failure.
actor LocalLXDClient {
    let socketPath: String
    private let connector: LXDConnector
    private var current: LXDClient?

    init(socketPath: String, connector: LXDConnector) {
        self.socketPath = socketPath
        self.connector = connector
    }

    func client() async throws -> LXDClient {
        if let current { return current }
        let c = try await connector.connect(.unixSocket(socketPath))
        current = c
        return c
    }

    func forget() { current = nil }

    /// The socket pylxd would use.
    static func defaultSocket(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["LXD_DIR"], !dir.isEmpty { return dir + "/unix.socket" }
        let snap = "/var/snap/lxd/common/lxd/unix.socket"
        if FileManager.default.fileExists(atPath: snap) { return snap }
        return ClusterConnection.defaultSocketPath
    }
}

/// A `Sendable` handle on the local LXD client.
struct LocalLXD: Sendable {
    let holder: LocalLXDClient

    func client() async throws -> LXDClient { try await holder.client() }
}
