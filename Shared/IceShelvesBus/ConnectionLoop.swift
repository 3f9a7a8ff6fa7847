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
/// declares the topology again and resumes every consumer. A channel error on channel 2 or 3
/// (see ``AMQPConnection``) reopens that channel and fails only the operation that caused it.
final class ConnectionLoop: @unchecked Sendable {
    // @unchecked: the cross-thread state is `inbox` (a Mutex) and `wakeFD` (an immutable fd).
    // Everything below "Thread-confined state" is read and written only on the loop thread.

    struct Settings: Sendable {
        /// The brokers, tried in turn (``BrokerRotation``).
        var urls: [AMQPURL]
        var heartbeatSeconds: Int32 = 10
        var connectTimeoutSeconds = 5
        var minBackoff: Duration = .milliseconds(100)
        var maxBackoff: Duration = .seconds(5)
        var name: String
    }

    struct Inbox {
        var commands: [Command] = []
        var connected = false
        /// How many connections the loop has opened (1 after the first; more after reconnects).
        var connections: UInt64 = 0
        var stopped = false
        var connectWaiters: [@Sendable (Bool) -> Void] = []
        /// Acks for the loop's next pass (see ConnectionLoop+Acks.swift).
        var acks: [PendingAck] = []
        /// The loop is (about to be) blocked in poll and needs the eventfd to see new commands.
        var sleeping = false
        /// While sleeping, how many buffered acks wake the loop; fewer wait for its next pass.
        var ackWakeThreshold = 1
    }

    let settings: Settings
    let logger: Logger
    let inbox = Mutex(Inbox())
    let wakeFD: Int32
    let finished = Mutex<[@Sendable () -> Void]?>([])

    // MARK: Thread-confined state
    // Internal rather than private only so that the ConnectionLoop+*.swift extensions reach it;
    // nothing outside the loop thread touches it.
    var connection: AMQPConnection?
    /// The broker the next connect goes to.
    var brokers: BrokerRotation
    var generation: UInt64 = 0
    var publishSeq: UInt64 = 0
    var pendingConfirms = PendingConfirms()
    /// Channel 2's publishes (see ConnectionLoop+SideChannel.swift).
    var side = SideChannel()
    var returnedIds: Set<String> = []
    var idForTag: [UInt64: String] = [:]
    var topology = BusTopology()
    var consumers: [String: ConsumerSpec] = [:]
    var pendingRequests: [String: PendingRequest] = [:]
    var acks = AckCoalescer()
    let replyTag = "direct-reply-to"
    var stopping = false
    var blocked = false
    /// The last wait ended without anything to do: the next one sleeps deeply instead of napping.
    var lastWaitIdle = false
    /// Emptied buffers with their capacity, swapped with the inbox's on each pass.
    var spareCommands: [Command] = []
    var spareAcks: [PendingAck] = []

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.brokers = BrokerRotation(settings.urls)
        self.wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit { close(wakeFD) }

    // MARK: Cross-thread API

    /// Starts the loop thread.
    func start() {
        let thread = Thread { [self] in
            self.run()
            let waiters = self.finished.withLock { w -> [@Sendable () -> Void] in
                let list = w ?? []
                w = nil
                return list
            }
            for waiter in waiters { waiter() }
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

    /// Wakes the loop out of `poll`.
    func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: The loop

    /// The loop thread: connect, run commands, read events, sleep; until stopped.
    func run() {
        var backoff = settings.minBackoff
        while !stopping {
            if connection == nil {
                do {
                    try connect()
                    backoff = settings.minBackoff
                } catch {
                    let failed = brokers.current
                    brokers.advance()
                    logger.warning(
                        "AMQP connect failed; retrying",
                        metadata: [
                            "error": "\(error)", "retry_in": "\(backoff)", "broker": "\(failed.redacted)", "next": "\(brokers.current.redacted)",
                        ]
                    )
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

    /// Blocks in `poll` until the socket is readable, a command arrives, a request expires or
    /// enough acks wait. While deliveries are unacked it only naps (``ackNap``) and lets acks
    /// collect without waking it; after a nap in which nothing happened it sleeps until anything
    /// at all arrives, so an idle consumer costs no wake-ups.
    func waitForActivity() {
        guard !stopping, let conn = connection, !conn.hasBufferedInput else { return }
        let unacked = acks.outstanding
        let nap = unacked > 1 && !lastWaitIdle
        let threshold = nap ? unacked / 2 : 1
        let sleep = inbox.withLock { box -> Bool in
            guard box.commands.isEmpty, box.acks.count < threshold else { return false }
            box.sleeping = true
            box.ackWakeThreshold = threshold
            return true
        }
        guard sleep else {
            lastWaitIdle = false
            return
        }
        var timeout: Int32 = nap ? Self.ackNap : 1000
        if let next = pendingRequests.values.map(\.deadline).min() {
            timeout = Int32(max(0, min(Double(timeout), ((next - ContinuousClock.now) / .milliseconds(1)).rounded(.up))))
        }
        var fds = [
            pollfd(fd: conn.socketFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, 2, timeout)
        let acksWaiting = inbox.withLock { box -> Bool in
            box.sleeping = false
            return !box.acks.isEmpty
        }
        if fds[1].revents != 0 { drainWake() }
        lastWaitIdle = ready <= 0 && !acksWaiting
    }

    /// Resets the eventfd after a wake-up.
    func drainWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    /// Sends the acks queued before stop, waits briefly for confirms, closes and fails the rest.
    func shutdown() {
        let (left, leftAcks) = inbox.withLock { box -> ([Command], [PendingAck]) in
            box.stopped = true
            box.connected = false
            defer {
                box.commands = []
                box.acks = []
            }
            return (box.commands, box.acks)
        }
        // Send the acks and rejects that were queued before stop, then close.
        if let conn = connection {
            try? sendAcks(leftAcks, on: conn)
            for c in left {
                switch c {
                case .reject(let gen, let tag, let requeue) where gen == conn.generation: try? conn.reject(tag, requeue: requeue)
                default: Self.failClosed(c)
                }
            }
            // Wait briefly for outstanding confirms so that nothing confirmed is reported lost.
            let deadline = ContinuousClock.now + .seconds(2)
            var batches: [String: [Delivery]] = [:]
            while (!pendingConfirms.isEmpty || !side.isIdle) && ContinuousClock.now < deadline {
                try? advanceProbation(on: conn)
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
        for confirm in pendingConfirms.removeAll() { confirm(.failure(closed)) }
        for publish in side.removeAll() { publish.done?(.failure(closed)) }
        failRequests(AMQPError(.closed, "the AMQP client shut down before the reply came"))
        for consumer in consumers.values { consumer.finish() }
        consumers = [:]
        let waiters = inbox.withLock { box -> [@Sendable (Bool) -> Void] in
            defer { box.connectWaiters = [] }
            return box.connectWaiters
        }
        for waiter in waiters { waiter(false) }
        logger.debug("AMQP connection closed", metadata: ["name": "\(settings.name)"])
    }
}
