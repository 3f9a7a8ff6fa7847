import Foundation
import IceShelvesContracts
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Connecting, losing the connection and waiting to reconnect.
extension ConnectionLoop {
    /// Opens a connection, declares the topology and resumes every consumer and direct reply-to.
    func connect() throws {
        generation += 1
        let conn = try AMQPConnection(
            url: brokers.current,
            heartbeatSeconds: settings.heartbeatSeconds,
            timeoutSeconds: settings.connectTimeoutSeconds,
            generation: generation
        )
        publishSeq = 0
        side = SideChannel()
        acks.reset()
        do {
            try declare(topology, on: conn)
            for spec in consumers.values {
                try conn.consume(queue: spec.queue, tag: spec.tag, prefetch: spec.prefetch, noAck: spec.noAck)
            }
            // Direct reply-to: replies to this connection's requests arrive on this consumer.
            try conn.consume(queue: BusNames.directReplyTo, tag: replyTag, prefetch: 0, noAck: true)
        } catch {
            conn.close(graceful: false)
            throw error
        }
        connection = conn
        logger.info(
            "AMQP connected",
            metadata: ["broker": "\(brokers.current.redacted)", "generation": "\(generation)", "consumers": "\(consumers.count)"]
        )
        let waiters = inbox.withLock { box -> [@Sendable (Bool) -> Void] in
            box.connected = true
            box.connections += 1
            defer { box.connectWaiters = [] }
            return box.connectWaiters
        }
        for waiter in waiters { waiter(true) }
    }

    /// Fails what cannot survive the lost connection, then waits a moment before reconnecting,
    /// to the next broker when there are several.
    func connectionLost(_ error: AMQPError) {
        let lostBroker = brokers.current
        brokers.advance()
        logger.error(
            "AMQP connection lost; reconnecting",
            metadata: ["error": "\(error)", "broker": "\(lostBroker.redacted)", "next": "\(brokers.current.redacted)"]
        )
        connection?.close(graceful: false)
        connection = nil
        inbox.withLock { $0.connected = false }
        let lost = AMQPError(.connectionLost, "connection lost before the broker confirmed: \(error.message)")
        let pending = pendingConfirms.removeAll()
        idForTag = [:]
        returnedIds = []
        for confirm in pending { confirm(.failure(lost)) }
        for publish in side.removeAll() { publish.done?(.failure(lost)) }
        failRequests(AMQPError(.connectionLost, "connection lost before the reply came: \(error.message)"))
        idle(for: settings.minBackoff)
    }

    /// Sleeps up to `duration`, but wakes for commands; fails publishes whose deadline passed.
    func idle(for duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while !stopping {
            let now = ContinuousClock.now
            if now >= deadline { return }
            expireWhileDisconnected(now: now)
            let ms = Int32((min(deadline - now, .milliseconds(250)) / .milliseconds(1)).rounded(.up))
            var fds = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            inbox.withLock { $0.sleeping = true }
            _ = poll(&fds, 1, max(ms, 1))
            inbox.withLock { $0.sleeping = false }
            drainWake()
            if inbox.withLock({ $0.commands.contains { if case .stop = $0 { true } else { false } } }) {
                stopping = true
            }
        }
    }

    /// While disconnected: fail expired publishes, drop stale acks, keep the rest for later.
    func expireWhileDisconnected(now: ContinuousClock.Instant) {
        let expired = inbox.withLock { box -> [Command] in
            var keep: [Command] = []
            var drop: [Command] = []
            for c in box.commands {
                switch c {
                case .publish(_, let deadline, _) where deadline <= now: drop.append(c)
                case .request(_, let deadline, _) where deadline <= now: drop.append(c)
                case .cancelRequest: continue
                case .reject: continue
                case .cancel: drop.append(c)
                default: keep.append(c)
                }
            }
            box.commands = keep
            box.acks = []  // for the lost connection: the broker has requeued those messages
            return drop
        }
        for command in expired {
            switch command {
            case .publish(_, _, let done):
                done?(.failure(AMQPError(.timeout, "not connected to the broker in time to publish")))
            case .request(let m, _, let done):
                done(.failure(AMQPError(.timeout, "no reply from \(m.routingKey): not connected to the broker in time")))
            case .cancel(let tag):
                // Nothing to tell the broker: the consumer died with the connection.
                consumers.removeValue(forKey: tag)?.finish()
            default:
                break
            }
        }
    }
}
