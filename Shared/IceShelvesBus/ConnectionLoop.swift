import CRabbitMQ
import Foundation
import IceShelvesContracts
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The thread that owns one AMQP connection.
///
/// Every rabbitmq-c call happens on this thread, so blocking C calls never run on Swift's
/// cooperative pool. Other threads talk to it through a locked inbox and an eventfd that wakes
/// its `poll`. On a lost connection it fails the unconfirmed publishes, reconnects with backoff,
/// declares the topology again and resumes every consumer.
final class ConnectionLoop: @unchecked Sendable {
    // @unchecked: the cross-thread state is `inbox` (a Mutex) and `wakeFD` (an immutable fd).
    // Everything below "Thread-confined state" is read and written only on the loop thread.

    struct Settings: Sendable {
        var url: AMQPURL
        var heartbeatSeconds: Int32 = 10
        var connectTimeoutSeconds = 5
        var minBackoff: Duration = .milliseconds(100)
        var maxBackoff: Duration = .seconds(5)
        var name: String
    }

    struct ConsumerSpec: Sendable {
        let tag: String
        let queue: String
        let prefetch: UInt16
        let noAck: Bool
        /// Called on the loop thread with the deliveries of one read pass; must not block.
        let deliver: @Sendable ([Delivery]) -> Void
        /// Called once when the consumer ends (cancel-ok, broker cancel or shutdown).
        let finish: @Sendable () -> Void
    }

    enum Command: Sendable {
        case publish(OutgoingMessage, deadline: ContinuousClock.Instant, done: (@Sendable (Result<Void, AMQPError>) -> Void)?)
        case declare(BusTopology, done: @Sendable (Result<Void, AMQPError>) -> Void)
        case consume(ConsumerSpec, done: @Sendable (Result<Void, AMQPError>) -> Void)
        case cancel(tag: String)
        /// Publish with `reply_to` set to direct reply-to and wait for the reply or the deadline.
        case request(OutgoingMessage, deadline: ContinuousClock.Instant, done: @Sendable (Result<Delivery, AMQPError>) -> Void)
        case cancelRequest(correlationId: String)
        case ack(generation: UInt64, tag: UInt64)
        case reject(generation: UInt64, tag: UInt64, requeue: Bool)
        case queueOp(QueueOp, name: String, done: @Sendable (Result<UInt32, AMQPError>) -> Void)
        case stop
    }

    enum QueueOp: Sendable { case depth, purge, delete }

    struct Inbox {
        var commands: [Command] = []
        var connected = false
        var stopped = false
        var connectWaiters: [@Sendable (Bool) -> Void] = []
        /// The loop is (about to be) blocked in poll and needs the eventfd to see new commands.
        var sleeping = false
    }

    struct PendingRequest {
        let deadline: ContinuousClock.Instant
        let routingKey: String
        let done: @Sendable (Result<Delivery, AMQPError>) -> Void
    }

    let settings: Settings
    let logger: Logger
    let inbox = Mutex(Inbox())
    private let wakeFD: Int32
    private let finished = Mutex<[@Sendable () -> Void]?>([])

    // MARK: Thread-confined state
    private var connection: AMQPConnection?
    private var generation: UInt64 = 0
    private var publishSeq: UInt64 = 0
    private var pendingConfirms: [UInt64: @Sendable (Result<Void, AMQPError>) -> Void] = [:]
    private var returnedIds: Set<String> = []
    private var idForTag: [UInt64: String] = [:]
    private var topology = BusTopology()
    private var consumers: [String: ConsumerSpec] = [:]
    private var pendingRequests: [String: PendingRequest] = [:]
    private var acks = AckCoalescer()
    private let replyTag = "direct-reply-to"
    private var stopping = false
    private var blocked = false

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit { close(wakeFD) }

    // MARK: Cross-thread API

    func start() {
        let thread = Thread { [self] in
            self.run()
            let waiters = self.finished.withLock { w -> [@Sendable () -> Void] in
                let list = w ?? []
                w = nil
                return list
            }
            waiters.forEach { $0() }
        }
        thread.name = "amqp-\(settings.name)"
        thread.start()
    }

    /// Queues a command and wakes the loop. After stop, fails it at once.
    func send(_ command: Command) {
        // Only a sleeping loop needs the eventfd write; a busy one drains the inbox on its next
        // pass, so commands ride along without a syscall each.
        let outcome = inbox.withLock { box -> (accepted: Bool, wake: Bool) in
            guard !box.stopped else { return (false, false) }
            box.commands.append(command)
            defer { box.sleeping = false }
            return (true, box.sleeping)
        }
        if !outcome.accepted { Self.failClosed(command) } else if outcome.wake { wake() }
    }

    /// Resolves when the loop thread has ended (immediately when it already has).
    func waitFinished() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let already = finished.withLock { w -> Bool in
                guard w != nil else { return true }
                w!.append { c.resume() }
                return false
            }
            if already { c.resume() }
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    private static func failClosed(_ command: Command) {
        let err = AMQPError(.closed, "the AMQP client is shut down")
        switch command {
        case .publish(_, _, let done): done?(.failure(err))
        case .declare(_, let done), .consume(_, let done): done(.failure(err))
        case .queueOp(_, _, let done): done(.failure(err))
        case .request(_, _, let done): done(.failure(err))
        case .cancel, .cancelRequest, .ack, .reject, .stop: break
        }
    }

    // MARK: The loop

    private func run() {
        var backoff = settings.minBackoff
        while !stopping {
            if connection == nil {
                do {
                    try connect()
                    backoff = settings.minBackoff
                } catch {
                    logger.warning("AMQP connect failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)", "broker": "\(settings.url.redacted)"])
                    idle(for: backoff)
                    backoff = min(backoff * 2, settings.maxBackoff)
                }
                continue
            }
            do {
                try runCommands()
                try pumpEvents()
                waitForActivity()
            } catch let error as AMQPError {
                connectionLost(error)
            } catch {
                connectionLost(AMQPError(.connectionLost, "\(error)"))
            }
        }
        shutdown()
    }

    private func connect() throws {
        generation += 1
        let conn = try AMQPConnection(url: settings.url, heartbeatSeconds: settings.heartbeatSeconds, timeoutSeconds: settings.connectTimeoutSeconds, generation: generation)
        publishSeq = 0
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
        logger.info("AMQP connected", metadata: ["broker": "\(settings.url.redacted)", "generation": "\(generation)", "consumers": "\(consumers.count)"])
        let waiters = inbox.withLock { box -> [@Sendable (Bool) -> Void] in
            box.connected = true
            defer { box.connectWaiters = [] }
            return box.connectWaiters
        }
        waiters.forEach { $0(true) }
    }

    private func connectionLost(_ error: AMQPError) {
        logger.error("AMQP connection lost; reconnecting", metadata: ["error": "\(error)"])
        connection?.close(graceful: false)
        connection = nil
        inbox.withLock { $0.connected = false }
        let lost = AMQPError(.connectionLost, "connection lost before the broker confirmed: \(error.message)")
        let pending = pendingConfirms
        pendingConfirms = [:]
        idForTag = [:]
        returnedIds = []
        pending.values.forEach { $0(.failure(lost)) }
        failRequests(AMQPError(.connectionLost, "connection lost before the reply came: \(error.message)"))
        idle(for: settings.minBackoff)
    }

    /// Sleeps up to `duration`, but wakes for commands; fails publishes whose deadline passed.
    private func idle(for duration: Duration) {
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
    private func expireWhileDisconnected(now: ContinuousClock.Instant) {
        let expired = inbox.withLock { box -> [Command] in
            var keep: [Command] = [], drop: [Command] = []
            for c in box.commands {
                switch c {
                case .publish(_, let deadline, _) where deadline <= now: drop.append(c)
                case .request(_, let deadline, _) where deadline <= now: drop.append(c)
                case .cancelRequest: continue
                case .ack, .reject: continue
                case .cancel: drop.append(c)
                default: keep.append(c)
                }
            }
            box.commands = keep
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

    private func runCommands() throws {
        guard let conn = connection else { return }
        let commands = inbox.withLock { box -> [Command] in
            defer { box.commands = [] }
            return box.commands
        }
        var index = 0
        var ackTags: [UInt64] = []
        defer {
            // Put back what was not run because the connection failed midway.
            if index < commands.count {
                let rest = Array(commands[(index + 1)...])
                inbox.withLock { $0.commands.insert(contentsOf: rest, at: 0) }
            }
        }
        while index < commands.count {
            let command = commands[index]
            switch command {
            case .publish(let message, let deadline, let done):
                if ContinuousClock.now > deadline {
                    done?(.failure(AMQPError(.timeout, "publish timed out before it was sent")))
                    break
                }
                do {
                    try conn.publish(message)
                } catch let error as AMQPError {
                    done?(.failure(error))
                    throw error
                }
                publishSeq += 1
                if let done {
                    pendingConfirms[publishSeq] = done
                    if message.mandatory, let id = message.properties.messageId { idForTag[publishSeq] = id }
                }
            case .declare(let t, let done):
                do {
                    try declare(t, on: conn)
                    topology = topology.merging(t)
                    done(.success(()))
                } catch let error as AMQPError {
                    done(.failure(error))
                    if error.kind == .brokerError || error.kind == .connectionLost { throw error }
                }
            case .consume(let spec, let done):
                do {
                    try conn.consume(queue: spec.queue, tag: spec.tag, prefetch: spec.prefetch, noAck: spec.noAck)
                    consumers[spec.tag] = spec
                    done(.success(()))
                } catch let error as AMQPError {
                    done(.failure(error))
                    throw error
                }
            case .cancel(let tag):
                if consumers[tag] != nil { try conn.sendCancel(tag: tag) }
            case .request(var message, let deadline, let done):
                guard let id = message.properties.correlationId else {
                    done(.failure(AMQPError(.brokerError, "a request needs a correlation id")))
                    break
                }
                if ContinuousClock.now > deadline {
                    done(.failure(AMQPError(.timeout, "no reply from \(message.routingKey): timed out before it was sent")))
                    break
                }
                message.properties.replyTo = BusNames.directReplyTo
                do {
                    try conn.publish(message)
                } catch let error as AMQPError {
                    done(.failure(error))
                    throw error
                }
                publishSeq += 1
                pendingRequests[id] = PendingRequest(deadline: deadline, routingKey: message.routingKey, done: done)
                if message.mandatory {
                    // An unroutable request fails at once instead of waiting for its timeout.
                    if let messageId = message.properties.messageId { idForTag[publishSeq] = messageId }
                    pendingConfirms[publishSeq] = { [unowned self] result in
                        if case .failure(let error) = result, let p = self.pendingRequests.removeValue(forKey: id) { p.done(.failure(error)) }
                    }
                }
            case .cancelRequest(let id):
                pendingRequests.removeValue(forKey: id)?.done(.failure(AMQPError(.timeout, "the request was cancelled")))
            case .ack(let gen, let tag):
                if gen == conn.generation { ackTags.append(tag) }  // sent together after the batch
            case .reject(let gen, let tag, let requeue):
                if gen == conn.generation {
                    try conn.reject(tag, requeue: requeue)
                    acks.rejected(tag)
                }
            case .queueOp(let op, let name, let done):
                do {
                    switch op {
                    case .depth: done(.success(try conn.declareQueue(name, durable: true, exclusive: false, arguments: [:], passive: true)))
                    case .purge: try conn.purgeQueue(name); done(.success(0))
                    case .delete: try conn.deleteQueue(name); done(.success(0))
                    }
                } catch let error as AMQPError {
                    done(.failure(error))
                    throw error
                }
            case .stop:
                stopping = true
            }
            index += 1
        }
        let frames = acks.acks(ackTags)
        if let upTo = frames.multipleUpTo { try conn.ack(upTo, multiple: true) }
        for tag in frames.singles { try conn.ack(tag) }
    }

    private func declare(_ t: BusTopology, on conn: AMQPConnection) throws {
        for e in t.exchanges { try conn.declareExchange(e.name, type: e.type) }
        for q in t.queues {
            var args: [String: HeaderValue] = [:]
            if q.deadLetter {
                args["x-dead-letter-exchange"] = .string(BusNames.deadLetterExchange)
                args["x-dead-letter-routing-key"] = .string(q.name)
                try conn.declareExchange(BusNames.deadLetterExchange, type: "direct")
                let dlq = q.name + BusNames.deadLetterSuffix
                try conn.declareQueue(dlq, durable: true, exclusive: false, arguments: [:])
                try conn.bindQueue(dlq, exchange: BusNames.deadLetterExchange, key: q.name)
            }
            try conn.declareQueue(q.name, durable: q.durable, exclusive: q.exclusive, arguments: args)
            for b in q.bindings { try conn.bindQueue(q.name, exchange: b.exchange, key: b.key) }
        }
    }

    /// Handles whatever the broker has sent, up to a bound so commands are not starved.
    /// Deliveries are handed over once per pass and consumer, which saves a thread wake-up each.
    private func pumpEvents() throws {
        guard let conn = connection else { return }
        var batches: [String: [Delivery]] = [:]
        defer { flush(&batches) }
        for _ in 0..<512 {
            guard let event = try conn.nextEvent() else { break }
            handle(event, batches: &batches)
        }
        expireRequests()
    }

    private func flush(_ batches: inout [String: [Delivery]]) {
        for (tag, deliveries) in batches { consumers[tag]?.deliver(deliveries) }
        batches = [:]
    }

    /// Fails the requests whose deadline has passed.
    private func expireRequests() {
        guard !pendingRequests.isEmpty else { return }
        let now = ContinuousClock.now
        for (id, request) in pendingRequests where request.deadline <= now {
            pendingRequests.removeValue(forKey: id)
            request.done(.failure(AMQPError(.timeout, "no reply from \(request.routingKey) in time")))
        }
    }

    private func failRequests(_ error: AMQPError) {
        let requests = pendingRequests
        pendingRequests = [:]
        requests.values.forEach { $0.done(.failure(error)) }
    }

    private func handle(_ event: AMQPConnection.Event, batches: inout [String: [Delivery]]) {
        switch event {
        case .deliver(let tag, let delivery):
            if tag == replyTag {
                if let id = delivery.properties.correlationId, let request = pendingRequests.removeValue(forKey: id) {
                    request.done(.success(delivery))
                }
            } else if let spec = consumers[tag] {
                if !spec.noAck { acks.delivered(delivery.deliveryTag) }
                batches[tag, default: []].append(delivery)
            } else {
                // Consumers stay registered until basic.cancel-ok, after which the broker sends
                // them nothing; an unknown tag means a broker bug. The message is requeued when
                // the channel closes.
                logger.warning("delivery for an unknown consumer", metadata: ["consumer_tag": "\(tag)"])
            }
        case .ack(let tag, let multiple):
            settle(tag: tag, multiple: multiple) { id in
                if let id, self.returnedIds.remove(id) != nil {
                    return .failure(AMQPError(.unroutable, "no queue received the message"))
                }
                return .success(())
            }
        case .nack(let tag, let multiple):
            settle(tag: tag, multiple: multiple) { _ in .failure(AMQPError(.nacked, "the broker refused the message")) }
        case .returned(let id, let text):
            if let id { returnedIds.insert(id) }
            logger.debug("message returned by the broker", metadata: ["reason": "\(text)"])
        case .cancelled(let tag), .cancelOk(let tag):
            flush(&batches)
            consumers.removeValue(forKey: tag)?.finish()
        case .blocked(let on):
            if on != blocked { logger.warning(on ? "broker blocked publishing (resource alarm)" : "broker unblocked publishing") }
            blocked = on
        case .other:
            break
        }
    }

    private func settle(tag: UInt64, multiple: Bool, _ outcome: (String?) -> Result<Void, AMQPError>) {
        let tags = multiple ? pendingConfirms.keys.filter { $0 <= tag } : [tag]
        for t in tags {
            guard let done = pendingConfirms.removeValue(forKey: t) else { continue }
            done(outcome(idForTag.removeValue(forKey: t)))
        }
    }

    private func waitForActivity() {
        guard !stopping, let conn = connection, !conn.hasBufferedInput else { return }
        let sleep = inbox.withLock { box -> Bool in
            guard box.commands.isEmpty else { return false }
            box.sleeping = true
            return true
        }
        guard sleep else { return }
        var timeout: Int32 = 1000
        if let next = pendingRequests.values.map(\.deadline).min() {
            timeout = Int32(max(0, min(1000, ((next - ContinuousClock.now) / .milliseconds(1)).rounded(.up))))
        }
        var fds = [
            pollfd(fd: conn.socketFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&fds, 2, timeout)
        inbox.withLock { $0.sleeping = false }
        if fds[1].revents != 0 { drainWake() }
    }

    private func drainWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    private func shutdown() {
        let left = inbox.withLock { box -> [Command] in
            box.stopped = true
            box.connected = false
            defer { box.commands = [] }
            return box.commands
        }
        // Send the acks and rejects that were queued before stop, then close.
        if let conn = connection {
            for c in left {
                switch c {
                case .ack(let gen, let tag) where gen == conn.generation: try? conn.ack(tag)
                case .reject(let gen, let tag, let requeue) where gen == conn.generation: try? conn.reject(tag, requeue: requeue)
                default: Self.failClosed(c)
                }
            }
            // Wait briefly for outstanding confirms so that nothing confirmed is reported lost.
            let deadline = ContinuousClock.now + .seconds(2)
            var batches: [String: [Delivery]] = [:]
            while !pendingConfirms.isEmpty && ContinuousClock.now < deadline {
                guard let event = try? conn.nextEvent() else {
                    var fds = [pollfd(fd: conn.socketFD, events: Int16(POLLIN), revents: 0)]
                    _ = poll(&fds, 1, 50)
                    continue
                }
                handle(event, batches: &batches)
            }
            flush(&batches)
            conn.close(graceful: true)
        } else {
            left.forEach(Self.failClosed)
        }
        connection = nil
        let closed = AMQPError(.closed, "the AMQP client shut down before the broker confirmed")
        pendingConfirms.values.forEach { $0(.failure(closed)) }
        pendingConfirms = [:]
        failRequests(AMQPError(.closed, "the AMQP client shut down before the reply came"))
        consumers.values.forEach { $0.finish() }
        consumers = [:]
        let waiters = inbox.withLock { box -> [@Sendable (Bool) -> Void] in
            defer { box.connectWaiters = [] }
            return box.connectWaiters
        }
        waiters.forEach { $0(false) }
        logger.debug("AMQP connection closed", metadata: ["name": "\(settings.name)"])
    }
}
