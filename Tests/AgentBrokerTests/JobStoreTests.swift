import Foundation
import IceShelvesContracts
import Testing

@testable import AgentBroker

@Suite("Agent-broker job store")
struct JobStoreTests {
    static func job(_ id: String, target: TargetType = .lxd, cluster: String = "7") -> DeploymentRendered {
        DeploymentRendered(
            deploymentId: id,
            instanceName: "i-\(id)",
            target: target,
            eggName: "debian-hello",
            eggVersion: "1.0.0",
            eggContentHash: "abc",
            baseImage: "iceshelves/debian-12",
            userData: "#cloud-config\n",
            metaData: "instance-id: x\n",
            destination: DeploymentTarget(clusterId: cluster, viaAgent: true)
        )
    }

    @Test func aJobIsStoredOnceAndLeasedToOneAgentAtATime() async throws {
        let store = try JobStore.open(path: nil)
        #expect(try await store.insert(Self.job("d1"), clusterId: "7"))
        #expect(try await !store.insert(Self.job("d1"), clusterId: "7"), "a redelivery is not stored twice")
        let now = Date()
        let first = try await store.claim(clusterId: "7", targets: [.lxd], holder: "a", lease: .seconds(10), limit: 5, now: now)
        #expect(first.map(\.deploymentId) == ["d1"])
        #expect(try await store.claim(clusterId: "7", targets: [.lxd], holder: "b", lease: .seconds(10), limit: 5, now: now).isEmpty)
        #expect(try await store.claim(clusterId: "8", targets: [.lxd], holder: "b", lease: .seconds(10), limit: 5, now: now).isEmpty)
        // The lease runs out: the same job, handed out again.
        let again = try await store.claim(clusterId: "7", targets: [.lxd], holder: "b", lease: .seconds(10), limit: 5, now: now + 11)
        #expect(again.map(\.deploymentId) == ["d1"])
        #expect(again.first?.handedOut == 2)
        try await store.finish("d1")
        #expect(try await store.claim(clusterId: "7", targets: [.lxd], holder: "c", lease: .seconds(10), limit: 5, now: now + 100).isEmpty)
    }

    @Test func aKVMJobNeverGoesToAnAgentThatOnlyDoesLXD() async throws {
        let store = try JobStore.open(path: nil)
        _ = try await store.insert(Self.job("k1", target: .kvm), clusterId: "7")
        #expect(try await store.claim(clusterId: "7", targets: [.lxd], holder: "original", lease: .seconds(10), limit: 5).isEmpty)
        #expect(try await store.claim(clusterId: "7", targets: [.lxd, .kvm], holder: "a", lease: .seconds(10), limit: 5).count == 1)
    }

    @Test func aCancelDropsAPendingJobAndFlagsALeasedOne() async throws {
        let store = try JobStore.open(path: nil)
        _ = try await store.insert(Self.job("p1"), clusterId: "7")
        #expect(try await store.requestCancel("p1") == .pending)
        #expect(try await store.claim(clusterId: "7", targets: [.lxd], holder: "a", lease: .seconds(10), limit: 5).isEmpty)
        _ = try await store.insert(Self.job("l1"), clusterId: "7")
        _ = try await store.claim(clusterId: "7", targets: [.lxd], holder: "a", lease: .seconds(60), limit: 5)
        #expect(try await store.requestCancel("l1") == .leased)
        #expect(try await store.cancels(clusterId: "7", holder: "a") == ["l1"])
        #expect(try await store.renew("l1", holder: "a", lease: .seconds(60))?.cancelRequested == true)
        #expect(try await store.requestCancel("nope") == nil)
    }

    @Test func jobsAndLeasesSurviveReopening() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jobstore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try JobStore.open(path: dir + "/db.sqlite")
            _ = try await store.insert(Self.job("r1"), clusterId: "7")
            _ = try await store.insert(Self.job("r2"), clusterId: "7")
            _ = try await store.claim(clusterId: "7", targets: [.lxd], holder: "a", lease: .seconds(60), limit: 1)
        }
        let reopened = try JobStore.open(path: dir + "/db.sqlite")
        #expect(try await reopened.count(.leased) == 1)
        #expect(try await reopened.count(.pending) == 1)
        let job = try #require(try await reopened.get("r1"))
        #expect(job.rendered == Self.job("r1"))
    }
}
