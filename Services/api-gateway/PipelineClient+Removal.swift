import IceShelvesContracts

extension PipelineClient {
    /// Asks the cluster's deployer (lxd-deployer or kvm-deployer) to stop and delete the
    /// deployment's instance, only if it carries this deployment's marker: `removed` is `false`
    /// when there was none. Used by `DELETE /deployments/{id}/cleanup` and ``LeftoverCleaner``.
    func removeInstance(of d: Ledger.Deployment, on cluster: ClusterStore.Cluster) async throws -> (removed: Bool, message: String) {
        if cluster.hypervisor == .kvm {
            let r = try await cleanupKVM(KVMCleanupRequest(clusterId: String(cluster.id), instanceName: d.instanceName, deploymentId: d.id))
            return (r.removed, r.message)
        }
        let r = try await cleanup(LXDCleanupRequest(clusterId: String(cluster.id), instanceName: d.instanceName, deploymentId: d.id))
        return (r.removed, r.message)
    }
}

extension ClusterStore.Cluster {
    /// The commands that remove `instance` by hand on the hypervisor (for agent-poll clusters,
    /// which IceShelves cannot reach).
    func manualRemoval(of instance: String) -> String {
        hypervisor == .kvm
            ? "virsh destroy \(instance); virsh undefine \(instance) --remove-all-storage; "
                + "virsh vol-delete \(instance)-console.log --pool <the agent's pool>"
            : "lxc delete \(instance) --force"
    }
}
