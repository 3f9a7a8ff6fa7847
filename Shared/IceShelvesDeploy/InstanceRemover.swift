import IceShelvesLXD

/// Stops and deletes an instance, used by the deploy cleanup and the `lxd.cleanup` RPC.
public struct InstanceRemover: Sendable {
    let client: LXDClient
    let timeout: Duration

    /// Removes `name` if it exists and, when `deploymentId` is given, carries that deployment's
    /// marker. Returns `false` when there was nothing to remove.
    public init(client: LXDClient, timeout: Duration) {
        self.client = client
        self.timeout = timeout
    }

    public func remove(_ name: String, ifOwnedBy deploymentId: String?) async throws -> Bool {
        _ = try await client.waitForOperations(onInstance: name, timeout: timeout)  // a create still running would outlive us
        guard let instance = try await client.instance(name) else { return false }
        if let deploymentId, !InstanceMarker.belongs(instance.config, to: deploymentId) {
            throw LXDError(.api, "instance \(name) does not belong to deployment \(deploymentId); left alone", status: 409)
        }
        if instance.status.lowercased() != "stopped" {
            let stop = try await client.changeState(name, action: "stop", force: true)
            _ = try await client.wait(stop, timeout: timeout)
        }
        let delete = try await client.deleteInstance(name)
        let done = try await client.wait(delete, timeout: timeout)
        if !done.succeeded { throw LXDError(.api, "LXD could not delete \(name): \(done.err ?? done.status)") }
        return true
    }
}
