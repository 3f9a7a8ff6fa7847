import Crypto
import Foundation
import IceShelvesContracts
import Logging
import Synchronization
import Testing

@testable import AgentBroker

/// One fixed table of clusters and key hashes, for the key checks.
struct FixedKeys: AgentKeySource {
    let keys: AgentKeys
    func agentKeys() async throws -> AgentKeys { keys }
}

/// A table that takes `delay` to fetch, counting the fetches.
final class SlowKeys: AgentKeySource, Sendable {
    let keys: AgentKeys
    let delay: Duration
    private let count = Mutex(0)
    init(keys: AgentKeys, delay: Duration) {
        self.keys = keys
        self.delay = delay
    }
    var fetches: Int { count.withLock { $0 } }
    func agentKeys() async throws -> AgentKeys {
        count.withLock { $0 += 1 }
        try await Task.sleep(for: delay)
        return keys
    }
}

@Suite("Agent-broker protocol pieces")
struct AgentProtocolTests {
    static func hash(_ key: String) -> String { SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined() }

    @Test func aKeyIsValidOnlyForItsOwnCluster() async {
        let verifier = KeyVerifier(
            source: FixedKeys(
                keys: AgentKeys(clusters: [
                    .init(clusterId: "1", keyHashes: [Self.hash("key-a")], pollIntervalSeconds: 60),
                    .init(clusterId: "2", keyHashes: [Self.hash("key-b"), Self.hash("key-b2")], pollIntervalSeconds: 60),
                ])
            ),
            logger: Logger(label: "test")
        )
        #expect(await verifier.verify(key: "key-a", clusterId: "1")?.clusterId == "1")
        #expect(await verifier.verify(key: "key-b", clusterId: "1") == nil)
        #expect(await verifier.verify(key: "key-b2", clusterId: "2") != nil, "a second key during a rotation")
        #expect(await verifier.verify(key: "", clusterId: "1") == nil)
        #expect(await verifier.verify(key: nil, clusterId: "1") == nil)
        #expect(await verifier.verify(key: "key-a", clusterId: "3") == nil)
        #expect(await verifier.verifyAny(key: "key-b"))
        #expect(await !verifier.verifyAny(key: "nope"))
    }

    @Test func aStaleKeyTableIsRefreshedWithoutHoldingUpPolls() async throws {
        let source = SlowKeys(
            keys: AgentKeys(clusters: [.init(clusterId: "1", keyHashes: [Self.hash("key-a")], pollIntervalSeconds: 60)]),
            delay: .milliseconds(600)
        )
        let verifier = KeyVerifier(source: source, refresh: .milliseconds(200), minRefetch: .milliseconds(100), logger: Logger(label: "test"))
        #expect(await verifier.verify(key: "key-a", clusterId: "1") != nil, "the first poll waits for the first table")
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        #expect(await verifier.verify(key: "key-a", clusterId: "1") != nil)
        #expect(ContinuousClock.now - started < .milliseconds(300), "answered from the stale table while it is fetched again")
        try await Task.sleep(for: .milliseconds(800))
        #expect(source.fetches == 2)
    }

    @Test func aHeldPollEndsWhenItsTimeIsUpAndEveryWaitEndsOnClose() async throws {
        let signal = JobSignal(tick: .milliseconds(20))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.run() }
            let started = ContinuousClock.now
            await signal.wait(cluster: "1", after: signal.generation("1"), for: .milliseconds(200))
            let held = ContinuousClock.now - started
            // Well under the 60 s a forgotten deadline would hold; plain `swift test` runs every
            // unit test at once on two cores, where a 200 ms hold has been seen to take over 2 s.
            #expect(held >= .milliseconds(200) && held < .seconds(10), "held \(held)")
            async let long: Void = signal.wait(cluster: "1", after: signal.generation("1"), for: .seconds(60))
            try? await Task.sleep(for: .milliseconds(100))
            #expect(signal.waiting == 1)
            signal.close()  // what graceful shutdown does
            await long
            #expect(signal.isClosed && signal.waiting == 0)
            let after = ContinuousClock.now
            await signal.wait(cluster: "1", after: signal.generation("1"), for: .seconds(60))
            #expect(ContinuousClock.now - after < .seconds(1), "a closed signal does not hold polls")
            await group.waitForAll()
        }
    }

    @Test func theOriginalAgentsInstanceInfoIsFlattened() throws {
        let json = """
            {"name": "web-1", "status": "Running", "architecture": "x86_64", "created_at": "2026-11-30T20:16:47.123456789Z",
             "ipv4": [{"family": "inet", "address": "10.200.77.5", "netmask": "24", "scope": "global"},
                      {"family": "inet6", "address": "fe80::1", "netmask": "64", "scope": "link"}]}
            """
        let info = try JSONDecoder().decode([String: JSONValue].self, from: Data(json.utf8))
        let flat = OriginalProtocol.flatten(info)
        #expect(flat["ipv4"] == "10.200.77.5")
        #expect(flat["name"] == "web-1")
        #expect(flat["status"] == "Running")
        let report = try JSONDecoder().decode(
            OriginalProtocol.StatusReport.self,
            from: Data(
                #"{"status": "in_progress", "message": "x", "instance_info": null, "error_message": null, "details": {"agent_hostname": "h", "timestamp": "2026-11-30T20:16:47.630324"}}"#
                    .utf8
            )
        )
        #expect(report.instanceInfo == nil && report.errorMessage == nil)
    }

    @Test func aPollItemCarriesEveryFieldAndTheUserDataInAKeyCloudInitReads() throws {
        var job = JobStoreTests.job("d1")
        job.destination?.configOverrides = ["limits.cpu": "2"]
        let data = try JSONEncoder().encode(OriginalProtocol.Item(job))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for field in [
            "deployment_id", "egg_name", "instance_name", "deployment_type", "cloud_init", "lxd_profile", "config_overrides", "target_member",
        ] {
            #expect(object[field] != nil && !(object[field] is NSNull), "\(field)")
        }
        let overrides = try #require(object["config_overrides"] as? [String: String])
        #expect(overrides["cloud-init.user-data"] == job.userData)
        #expect(overrides["limits.cpu"] == "2")
        #expect(overrides[LXDInstancePlan.deploymentIdKey] == "d1")
    }

    @Test func aWaitingPollWakesWhenItsClusterIsSignalled() async {
        let signal = JobSignal()
        let seen = signal.generation("7")
        let started = ContinuousClock.now
        async let waited: Void = signal.wait(cluster: "7", after: seen, for: .seconds(10))
        try? await Task.sleep(for: .milliseconds(100))
        signal.signal("8")
        signal.signal("7")
        await waited
        #expect(ContinuousClock.now - started < .seconds(5))
        // A signal between reading the generation and waiting is not missed.
        let before = signal.generation("7")
        signal.signal("7")
        let again = ContinuousClock.now
        await signal.wait(cluster: "7", after: before, for: .seconds(10))
        #expect(ContinuousClock.now - again < .seconds(1))
        #expect(signal.waiting == 0)
    }
}
