import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import ServiceLifecycle
import Synchronization

/// The health of agent-poll clusters from their agents' polls: `unknown` until the first poll,
/// `active` while an agent polled within 2 × the cluster's poll interval, then `inactive`.
///
/// Each change is published as ``ClusterStatusChanged`` by ``run()``, off the poll's path: a poll
/// only records the time in memory (no database write, no publish), so 10,000 agents polling for
/// the first time do not wait for 10,000 confirms.
final class ClusterHealth: Service, Sendable {
    private struct Entry {
        var status: ClusterStatusChanged.Status
        var lastSeen: Date
        var interval: Int
        var agentVersion: String?
    }

    private let bus: AMQPClient
    private let logger: Logger
    private let entries = Mutex([String: Entry]())
    private let changes: AsyncStream<ClusterStatusChanged>
    private let outbox: AsyncStream<ClusterStatusChanged>.Continuation
    /// Changes published at once.
    private let width = 16

    init(bus: AMQPClient, logger: Logger) {
        self.bus = bus
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterStatusChanged.self)
        changes = stream
        outbox = continuation
    }

    /// An agent of `clusterId` polled now.
    func seen(_ clusterId: String, interval: Int, agentVersion: String? = nil, now: Date = Date()) {
        let previous = entries.withLock { e -> ClusterStatusChanged.Status in
            let before = e[clusterId]?.status ?? .unknown
            e[clusterId] = Entry(status: .active, lastSeen: now, interval: interval, agentVersion: agentVersion ?? e[clusterId]?.agentVersion)
            return before
        }
        if previous != .active {
            changed(clusterId, .active, previous: previous, lastSeen: now, "its agent polled")
        }
    }

    /// The cluster's status now.
    func status(_ clusterId: String) -> ClusterStatusChanged.Status {
        entries.withLock { $0[clusterId]?.status ?? .unknown }
    }

    /// Marks silent clusters `inactive`.
    func sweep(now: Date = Date()) {
        let silent = entries.withLock { e -> [(String, Date, Int)] in
            var out: [(String, Date, Int)] = []
            for (id, entry) in e where entry.status == .active && now.timeIntervalSince(entry.lastSeen) > Double(2 * entry.interval) {
                e[id]?.status = .inactive
                out.append((id, entry.lastSeen, entry.interval))
            }
            return out
        }
        for (id, lastSeen, interval) in silent {
            changed(id, .inactive, previous: .active, lastSeen: lastSeen, "its agent has not polled for more than 2 × \(interval) s")
        }
    }

    /// Publishes the changes (up to ``width`` at once) until shutdown; what is queued then is still sent.
    func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await change in changes {
                    if inFlight >= width {
                        await group.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    group.addTask { await self.publish(change) }
                }
            }
        } onGracefulShutdown: {
            self.outbox.finish()
        }
    }

    private func changed(
        _ id: String,
        _ status: ClusterStatusChanged.Status,
        previous: ClusterStatusChanged.Status,
        lastSeen: Date,
        _ message: String
    ) {
        logger.info("cluster health changed", metadata: ["cluster": "\(id)", "status": "\(status.rawValue)", "previous": "\(previous.rawValue)"])
        outbox.yield(
            ClusterStatusChanged(clusterId: id, status: status, previousStatus: previous, lastSeen: lastSeen.formatted(.iso8601), message: message)
        )
    }

    private func publish(_ change: ClusterStatusChanged) async {
        do {
            try await bus.publish(
                Envelope(change),
                exchange: BusNames.eventsExchange,
                routingKey: BusNames.clusterStatusKey(clusterId: change.clusterId),
                mandatory: false
            )
        } catch {
            logger.warning("cannot publish a cluster health change", metadata: ["cluster": "\(change.clusterId)", "error": "\(error)"])
        }
    }
}
