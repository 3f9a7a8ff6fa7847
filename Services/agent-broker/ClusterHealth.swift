import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Synchronization

/// The health of agent-poll clusters from their agents' polls: `unknown` until the first poll,
/// `active` while an agent polled within 2 × the cluster's poll interval, then `inactive`.
/// Each change is published as ``ClusterStatusChanged``.
final class ClusterHealth: Sendable {
    private struct Entry {
        var status: ClusterStatusChanged.Status
        var lastSeen: Date
        var interval: Int
        var agentVersion: String?
    }

    private let bus: AMQPClient
    private let logger: Logger
    private let entries = Mutex([String: Entry]())

    init(bus: AMQPClient, logger: Logger) {
        self.bus = bus
        self.logger = logger
    }

    /// An agent of `clusterId` polled now.
    func seen(_ clusterId: String, interval: Int, agentVersion: String? = nil, now: Date = Date()) async {
        let previous = entries.withLock { e -> ClusterStatusChanged.Status in
            let before = e[clusterId]?.status ?? .unknown
            e[clusterId] = Entry(status: .active, lastSeen: now, interval: interval, agentVersion: agentVersion ?? e[clusterId]?.agentVersion)
            return before
        }
        if previous != .active {
            await publish(clusterId, .active, previous: previous, lastSeen: now, "its agent polled")
        }
    }

    /// The cluster's status now.
    func status(_ clusterId: String) -> ClusterStatusChanged.Status {
        entries.withLock { $0[clusterId]?.status ?? .unknown }
    }

    /// Marks silent clusters `inactive`.
    func sweep(now: Date = Date()) async {
        let silent = entries.withLock { e -> [(String, Date, Int)] in
            var out: [(String, Date, Int)] = []
            for (id, entry) in e where entry.status == .active && now.timeIntervalSince(entry.lastSeen) > Double(2 * entry.interval) {
                e[id]?.status = .inactive
                out.append((id, entry.lastSeen, entry.interval))
            }
            return out
        }
        for (id, lastSeen, interval) in silent {
            await publish(id, .inactive, previous: .active, lastSeen: lastSeen, "its agent has not polled for more than 2 × \(interval) s")
        }
    }

    private func publish(
        _ id: String,
        _ status: ClusterStatusChanged.Status,
        previous: ClusterStatusChanged.Status,
        lastSeen: Date,
        _ message: String
    )
        async
    {
        let change = ClusterStatusChanged(
            clusterId: id,
            status: status,
            previousStatus: previous,
            lastSeen: lastSeen.formatted(.iso8601),
            message: message
        )
        logger.info("cluster health changed", metadata: ["cluster": "\(id)", "status": "\(status.rawValue)", "previous": "\(previous.rawValue)"])
        do {
            try await bus.publish(
                Envelope(change),
                exchange: BusNames.eventsExchange,
                routingKey: BusNames.clusterStatusKey(clusterId: id),
                mandatory: false
            )
        } catch {
            logger.warning("cannot publish a cluster health change", metadata: ["cluster": "\(id)", "error": "\(error)"])
        }
    }
}
