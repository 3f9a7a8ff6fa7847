import Foundation
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesLibvirt
import IceShelvesTestSupport
import Logging
import Testing

/// A batch of deployments through the REST API of an ``AgentStack`` while something breaks, and
/// the checks every fault case ends with: each deployment reaches a terminal state within the
/// deployment timeout, a completed one has exactly one instance and a failed one none, and no
/// message waits in any queue but the dead-letter queues, whose jobs the API lists.
struct FaultBatch {
    let stack: AgentStack
    /// Where the instances are looked for (and removed at the end).
    let target: Target
    /// The instance names' prefix (a fresh one per batch).
    let prefix: String
    /// More fields of every deploy body, each with its leading comma.
    let extra: String
    private(set) var ids: [String] = []
    private(set) var names: [String] = []
    let started = ContinuousClock.now

    /// LXD (instances found by their deployment marker) or libvirt (domains and volumes by name).
    enum Target {
        case lxd(ClusterConnection)
        case libvirt(LibvirtSettings)
    }

    static let connector = LXDConnector(timeout: .seconds(15), logger: Logger(label: "fault-batch"))

    init(_ stack: AgentStack, target: Target, prefix: String, extra: String = "") {
        (self.stack, self.target, self.prefix, self.extra) = (stack, target, prefix, extra)
    }

    /// `POST /api/deploy` of `count` more deployments of the offline test egg to `cluster` (one
    /// request, names `<prefix>-<part>-{n}`). While the gateway does not take it (no answer, or
    /// 5xx because a service it needs is down) it is sent again until `retryingFor` has passed;
    /// `false` when it was never taken.
    @discardableResult
    mutating func submit(count: Int, cluster: Int, retryingFor: Duration = .seconds(60)) async throws -> Bool {
        let part = ids.count
        let deadline = ContinuousClock.now + retryingFor
        var r: HTTP.Reply
        repeat {
            r = try await HTTP.call(
                "POST",
                stack.gatewayBase + "/api/deploy",
                key: stack.adminKey,
                body:
                    #"{"egg_id":"debian-hello","cluster_id":\#(cluster),"count":\#(count),"name_pattern":"\#(prefix)-\#(part)-{n}","variables":{"greeting":"hi"}\#(extra)}"#
            )
            if r.status == 201 || (r.status != 0 && r.status < 500) { break }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        if r.status == 0 || r.status >= 500 { return false }
        try #require(r.status == 201, "\(r.json)")
        let items = (r.json["deployments"] as? [[String: Any]]) ?? [r.json]
        let taken = items.compactMap { $0["deployment_id"] as? String }
        try #require(taken.count == count, "\(r.json)")
        ids += taken
        names += items.compactMap { $0["instance_name"] as? String }
        return true
    }

    /// Each deployment's status as the gateway has it (`nil` while the gateway does not answer).
    func statuses() async -> [String: String] {
        var out: [String: String] = [:]
        for id in ids {
            if let s = try? await stack.deployment(id)["status"] as? String { out[id] = s }
        }
        return out
    }

    /// Waits until at least one deployment's status is at least `status` (the middle of the batch).
    func waitUntilAny(reached status: DeploymentStatus, within: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            let now = await statuses().values.compactMap(DeploymentStatus.init(rawValue:))
            if now.contains(where: { $0.rank >= status.rank }) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no deployment reached \(status.rawValue) within \(within)")
    }

    /// Waits until every deployment is terminal, at most `within` after the batch was submitted
    /// (the gateway's deployment timeout); the final statuses.
    func waitUntilTerminal(within: Duration) async throws -> [String: String] {
        let deadline = started + within
        var last: [String: String] = [:]
        while ContinuousClock.now < deadline {
            last = await statuses()
            if last.count == ids.count, last.values.allSatisfy({ DeploymentStatus(rawValue: $0)?.isTerminal == true }) { return last }
            try await Task.sleep(for: .seconds(1))
        }
        Issue.record("not every deployment ended within \(within): \(last)")
        return last
    }

    /// What each deployment left on the target, by deployment id: on LXD the instances carrying
    /// its marker; on libvirt the domain and the volumes named after its instance.
    func instances() async throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        switch target {
        case .lxd(let connection):
            let client = try await Self.connector.connect(connection)
            defer { client.close() }
            for i in try await client.instances() {
                if let id = i.config[LXDInstancePlan.deploymentIdKey], ids.contains(id) { out[id, default: []].append(i.name) }
            }
        case .libvirt(let settings):
            let c = try await LibvirtConnection.open(settings.uri)
            let domains = try await c.domainNames()
            let volumes = try await c.volumeNames(pool: settings.storagePool)
            for (id, name) in zip(ids, names) {
                let left = domains.filter { $0 == name } + volumes.filter { $0.hasPrefix(name + "-") }
                if !left.isEmpty { out[id] = left }
            }
        }
        return out
    }

    /// The checks of every fault case; `expectCompleted` also requires every deployment to be `completed`.
    /// A deployment the gateway has ended (a cancel is recorded at once) may still be cleaned up
    /// by its deployer (or, when its host was away, by the gateway's later tries): what it left is
    /// looked at again for up to `settle`.
    func verify(statuses: [String: String], expectCompleted: Bool, settle: Duration = .seconds(60)) async throws {
        func consistent(_ found: [String: [String]]) -> Bool {
            ids.allSatisfy { id in
                statuses[id] == "completed" ? found[id]?.filter({ !$0.hasPrefix(name(of: id) + "-") }).count == 1 : found[id] == nil
            }
        }
        var found = try await instances()
        let settled = ContinuousClock.now + settle
        while !consistent(found), ContinuousClock.now < settled {
            try await Task.sleep(for: .seconds(2))
            found = try await instances()
        }
        for id in ids {
            let status = statuses[id] ?? "unknown"
            if expectCompleted && status != "completed" {
                let trail = await log(id)
                Issue.record("\(id) ended \(status), not completed: \(trail)")
            }
            if status == "completed" {
                let instances = found[id]?.filter { !$0.hasPrefix(name(of: id) + "-") } ?? []
                #expect(instances.count == 1, "exactly one instance for completed \(id), found \(found[id] ?? [])")
            } else {
                #expect(found[id] == nil, "no instance for \(status) \(id), found \(found[id] ?? [])")
            }
        }
        try await verifyQueues()
    }

    /// No message waits unprocessed in any queue of the vhost, except in the dead-letter queues;
    /// every job there, and every one the gateway took off them, is listed by the API, for one of
    /// this batch's deployments, which is not `completed`.
    func verifyQueues() async throws {
        var busy: [FaultEnvironment.QueueDepth] = []
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            busy = try await FaultEnvironment.queues().filter { !$0.isDeadLetterQueue && $0.ready + $0.unacknowledged > 0 }
            if busy.isEmpty { break }
            try await Task.sleep(for: .seconds(1))
        } while ContinuousClock.now < deadline
        #expect(busy.isEmpty, "messages left unprocessed: \(busy)")
        let waiting = try await FaultEnvironment.queues().filter(\.isDeadLetterQueue).reduce(0) { $0 + $1.ready + $1.unacknowledged }
        let listed = try await HTTP.call("GET", stack.gatewayBase + "/api/admin/dead-letters?per_page=100", key: stack.adminKey)
        let letters = listed.json["dead_letters"] as? [[String: Any]] ?? []
        #expect(letters.count >= waiting, "\(waiting) dead letters wait on the broker, the API lists \(letters.count)")
        for letter in letters {
            let id = letter["deployment_id"] as? String
            #expect(id.map(ids.contains) == true, "a dead letter of no deployment of this batch: \(letter)")
            #expect(letter["deployment_status"] as? String != "completed", "a completed deployment's job is dead-lettered: \(letter)")
        }
    }

    /// The deployment's log, for failure messages.
    func log(_ id: String) async -> String {
        let logs = (try? await stack.deployment(id)["logs"] as? [[String: Any]]) ?? []
        return logs.map { "\($0["step"] ?? "")/\($0["message"] ?? "")" }.joined(separator: "; ")
    }

    func name(of id: String) -> String { ids.firstIndex(of: id).map { names[$0] } ?? id }

    /// Removes every instance of the batch (by its marker, or its name on libvirt), whatever the test found.
    func removeInstances() async {
        switch target {
        case .lxd(let connection):
            guard let client = try? await Self.connector.connect(connection) else { return }
            defer { client.close() }
            await withTaskGroup(of: Void.self) { group in
                for name in ((try? await instances()) ?? [:]).values.joined() {
                    group.addTask {
                        if let stop = try? await client.changeState(name, action: "stop", force: true) {
                            _ = try? await client.wait(stop, timeout: .seconds(60))
                        }
                        if let delete = try? await client.deleteInstance(name) { _ = try? await client.wait(delete, timeout: .seconds(60)) }
                    }
                }
            }
        case .libvirt(let settings):
            guard let c = try? await LibvirtConnection.open(settings.uri) else { return }
            for (_, left) in (try? await instances()) ?? [:] {
                for name in left {
                    if names.contains(name) {
                        _ = try? await c.removeDomain(name)
                    } else {
                        _ = try? await c.deleteVolume(name, pool: settings.storagePool)
                    }
                }
            }
        }
    }
}
