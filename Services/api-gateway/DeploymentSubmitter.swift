import IceShelvesContracts

/// The one way a deployment is submitted, for `POST /deploy`, batches and retries: the
/// cluster's limit and the instance names are checked atomically with the ledger insert; each
/// request is then published (confirmed); a request the broker did not take is marked `failed`
/// with the reason, and the caller gets a 503.
struct DeploymentSubmitter: Sendable {
    let ledger: Ledger
    let pipeline: any PipelineClient
    let recorder: ProgressRecorder
    let audit: AuditLog
    /// Unfinished deployments allowed per cluster (`MAX_CONCURRENT_DEPLOYMENTS`).
    let limitPerCluster: Int

    /// Inserts and publishes `requests`, all for `cluster`; returns once every one is on the bus.
    func submit(
        _ requests: [DeploymentRequested],
        eggId: Int64?,
        cluster: ClusterStore.Cluster,
        by who: Identity,
        retryOf: String? = nil
    ) async throws {
        _ = try await ledger.insert(
            requests,
            eggId: eggId,
            clusterId: cluster.id,
            clusterName: cluster.name,
            deployedBy: who.name,
            retryOf: retryOf,
            limit: limitPerCluster,
            observe: recorder.observer
        )
        for (index, request) in requests.enumerated() {
            do {
                try await pipeline.submit(request)
            } catch {
                // This one and every later one of the batch never reached the bus: say so in the ledger.
                let reason = (error as? APIError)?.message ?? "the message broker did not accept the deployment: \(error)"
                for unsent in requests[index...] {
                    _ = try? await recorder.record(
                        unsent.deploymentId,
                        DeploymentEvent(status: .failed, step: .submit, level: .error, message: reason)
                    )
                }
                let sent = requests[..<index].map(\.deploymentId)
                guard sent.isEmpty else {
                    throw APIError(
                        .serviceUnavailable,
                        "\(reason); \(sent.count) of \(requests.count) deployments were accepted before that: \(sent.joined(separator: ", "))"
                    )
                }
                throw error
            }
            let action = retryOf == nil ? "deployment.create" : "deployment.retry"
            let detail = retryOf.map { "retry of \($0)" } ?? "\(request.eggName) → \(cluster.name)/\(request.instanceName)"
            await audit.record(who, action, target: request.deploymentId, detail: detail)
        }
    }
}
