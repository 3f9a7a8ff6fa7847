import Foundation
import IceShelvesContracts
import Synchronization
import Testing

@testable import ApiGateway

@Suite("Timeouts that tell the truth")
struct TimeoutTests {
    /// Read in the code: the timeout counted from creation, so time in the queue counted too,
    /// and the gateway declared `timeout` while the deployer's own budget (cloud-init 600 s +
    /// operations) was still running.
    @Test func theQueueAndTheDeployerAreTimedApartAndTheDeployersBudgetCounts() async throws {
        let h = try await Harness()
        let id = Mutex("")
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#)
            let r = try await c.call(.post, "/iceshelves/api/deploy", key: h.operatorKey, json: #"{"egg_id":1,"cluster_id":1,"instance_name":"t-1"}"#)
            id.withLock { $0 = r.json["deployment_id"] as? String ?? "" }
        }
        let deployment = id.withLock { $0 }
        let now = Date()
        // Waiting for a deployer: only the queue limit applies.
        #expect(try await h.gateway.ledger.overdue(now: now.addingTimeInterval(3000), deploymentTimeout: 600, queueTimeout: 3600).isEmpty)
        let queued = try await h.gateway.ledger.overdue(now: now.addingTimeInterval(3700), deploymentTimeout: 600, queueTimeout: 3600)
        #expect(queued.first?.id == deployment)
        #expect(queued.first?.message.contains("QUEUE_TIMEOUT") == true)
        // A deployer took it with a budget of 1500 s: its clock starts now, and 600 s do not cut it short.
        _ = try await h.gateway.ledger.record(
            deployment,
            DeploymentEvent(status: .inProgress, step: .accept, message: "taken", details: [DeploymentEvent.budgetKey: "1500"])
        )
        #expect(try await h.gateway.ledger.overdue(now: now.addingTimeInterval(1500), deploymentTimeout: 600, queueTimeout: 60).isEmpty)
        let late = try await h.gateway.ledger.overdue(now: now.addingTimeInterval(1600), deploymentTimeout: 600, queueTimeout: 60)
        #expect(late.map(\.id) == [deployment])
        #expect(late.first?.message.contains("1560 s") == true, "\(late)")
    }
}
