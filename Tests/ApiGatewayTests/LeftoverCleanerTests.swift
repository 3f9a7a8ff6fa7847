import Foundation
import IceShelvesContracts
import Logging
import Synchronization
import Testing

@testable import ApiGateway

@Suite("Instances left behind by failed deployments")
struct LeftoverCleanerTests {
    /// Seen in the fault suite: a deployment to an LXD member whose daemon stopped failed, the
    /// deployer's one removal failed too, and nothing removed the instance once the member was back.
    @Test func aFailedRemovalIsTriedAgainUntilItSucceedsAndThenSettled() async throws {
        let h = try await Harness()
        let id = Mutex("")
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#)
            let r = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"left-1"}"#
            )
            id.withLock { $0 = r.json["deployment_id"] as? String ?? "" }
        }
        let deployment = id.withLock { $0 }
        let ledger = h.gateway.ledger
        let cleaner = LeftoverCleaner(
            ledger: ledger,
            clusters: h.gateway.clusters,
            recorder: h.gateway.recorder,
            pipeline: h.bus,
            logger: Logger(label: "cleaner-test")
        )
        let start = Date()
        _ = try await ledger.record(deployment, DeploymentEvent(status: .inProgress, step: .create, message: "created"))
        _ = try await ledger.record(
            deployment,
            DeploymentEvent(status: .inProgress, step: .cleanup, level: .error, message: "could not remove left-1: cannot reach LXD")
        )
        // Not before the deployment has ended, and not before the first delay.
        await cleaner.sweep(now: start.addingTimeInterval(3600))
        #expect(h.bus.cleanedUp.withLock { $0 }.isEmpty)
        _ = try await ledger.record(deployment, DeploymentEvent(status: .failed, step: .cloudInit, level: .error, message: "timed out"))
        #expect(try await ledger.get(deployment)?.cleanupRetryAt != nil)
        await cleaner.sweep(now: start)
        #expect(h.bus.cleanedUp.withLock { $0 }.isEmpty)

        // The host is still away: the try fails and the next one waits longer.
        h.bus.cleanupFailures.withLock { $0 = 2 }
        await cleaner.sweep(now: start.addingTimeInterval(LeftoverCleaner.firstDelay + 1))
        let second = try #require(try await ledger.get(deployment)?.cleanupRetryAt.flatMap(Timestamp.date))
        #expect(second.timeIntervalSinceNow > LeftoverCleaner.firstDelay * 2 - 5)
        await cleaner.sweep(now: second.addingTimeInterval(1))
        #expect(h.bus.cleanedUp.withLock { $0 }.isEmpty)
        #expect(h.bus.cleanupFailures.withLock { $0 } == 0)

        // It is back: the instance is removed, the log says so, and nothing is pending any more.
        await cleaner.sweep(now: start.addingTimeInterval(3600))
        #expect(h.bus.cleanedUp.withLock { $0 } == ["left-1"])
        let after = try #require(try await ledger.detail(deployment))
        #expect(after.deployment.cleanupRetryAt == nil)
        #expect(after.deployment.status == .failed)
        #expect(after.logs.last?.step == .cleanup)
        #expect(after.logs.last?.message.contains("left-1 stopped and deleted") == true, "\(after.logs.last?.message ?? "")")
        await cleaner.sweep(now: start.addingTimeInterval(7200))
        #expect(h.bus.cleanedUp.withLock { $0 } == ["left-1"])
    }

    @Test func theWaitDoublesUpToAMinute() {
        #expect(LeftoverCleaner.delay(afterAttempts: 0) == LeftoverCleaner.firstDelay)
        #expect(LeftoverCleaner.delay(afterAttempts: 1) == 20)
        #expect(LeftoverCleaner.delay(afterAttempts: 2) == 40)
        #expect(LeftoverCleaner.delay(afterAttempts: 3) == 60)
        #expect(LeftoverCleaner.delay(afterAttempts: 1000) == 60)
    }
}
