import Foundation
import IceShelvesContracts

/// What other threads ask of the loop, and how the loop runs it on its own thread.
extension ConnectionLoop {
    /// One request to the loop thread, queued in the inbox by ``send(_:)``.
    enum Command: Sendable {
        case publish(OutgoingMessage, deadline: ContinuousClock.Instant, done: (@Sendable (Result<Void, AMQPError>) -> Void)?)
        case declare(BusTopology, done: @Sendable (Result<Void, AMQPError>) -> Void)
        case consume(ConsumerSpec, done: @Sendable (Result<Void, AMQPError>) -> Void)
        case cancel(tag: String)
        /// Publish with `reply_to` set to direct reply-to and wait for the reply or the deadline.
        case request(OutgoingMessage, deadline: ContinuousClock.Instant, done: @Sendable (Result<Delivery, AMQPError>) -> Void)
        case cancelRequest(correlationId: String)
        case reject(generation: UInt64, tag: UInt64, requeue: Bool)
        case queueOp(QueueOp, name: String, done: @Sendable (Result<UInt32, AMQPError>) -> Void)
        case stop
    }

    /// A queue operation for tests and tools.
    enum QueueOp: Sendable { case depth, purge, delete }

    /// Fails a command that arrived after the loop stopped.
    static func failClosed(_ command: Command) {
        let err = AMQPError(.closed, "the AMQP client is shut down")
        switch command {
        case .publish(_, _, let done): done?(.failure(err))
        case .declare(_, let done), .consume(_, let done): done(.failure(err))
        case .queueOp(_, _, let done): done(.failure(err))
        case .request(_, _, let done): done(.failure(err))
        case .cancel, .cancelRequest, .reject, .stop: break
        }
    }

    // MARK: Running commands

    /// Runs every queued command on the connection, then sends the buffered acks together.
    /// When several commands share a pass, frames that wait for no reply go out corked and
    /// leave together when the pass ends; a command that waits for the broker's reply (declare,
    /// consume, queue operations) flushes them first.
    func runCommands() throws {
        guard let conn = connection else { return }
        // Swap in an emptied array that keeps its capacity: a busy publisher queues hundreds of
        // commands per pass, and growing and freeing that array every pass costs more than the
        // commands themselves.
        var commands = spareCommands
        spareCommands = []
        inbox.withLock { swap(&$0.commands, &commands) }
        let now = ContinuousClock.now
        var index = 0
        var corked = false
        defer {
            if corked { conn.setCorked(false) }
            // Put back what was not run because the connection failed midway.
            if index < commands.count {
                let rest = Array(commands[(index + 1)...])
                inbox.withLock { $0.commands.insert(contentsOf: rest, at: 0) }
            }
            commands.removeAll(keepingCapacity: true)
            spareCommands = commands
        }
        while index < commands.count {
            let command = commands[index]
            switch command {
            case .declare, .consume, .queueOp:
                if corked {
                    conn.setCorked(false)
                    corked = false
                }
            default:
                if !corked, commands.count - index > 1 {
                    conn.setCorked(true)
                    corked = true
                }
            }
            switch command {
            case .publish(let message, let deadline, let done) where !message.exchange.isEmpty || done == nil:
                // Named exchanges and RPC replies go on channel 2, where a channel error fails
                // only the publish that caused it.
                try sendSide(SidePublish(message: message, deadline: deadline, done: done), on: conn)
            case .publish(let message, let deadline, let done):
                if now > deadline {
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
                    pendingConfirms.add(publishSeq, done)
                    if message.mandatory, let id = message.properties.messageId { idForTag[publishSeq] = id }
                }
            case .declare(let t, let done):
                do {
                    try declare(t, on: conn)
                    topology = topology.merging(t)
                    done(.success(()))
                } catch let closed as ChannelClosed {
                    done(.failure(closed.error))
                    try channelClosed(closed, on: conn)
                } catch let error as AMQPError {
                    done(.failure(error))
                    if error.kind == .brokerError || error.kind == .connectionLost { throw error }
                }
            case .consume(let spec, let done):
                do {
                    // Looked at on channel 3 first: a missing or locked queue would otherwise
                    // close channel 1 and, with it, every consumer and request.
                    try conn.declareQueue(spec.queue, durable: true, exclusive: false, arguments: [:], passive: true)
                } catch let closed as ChannelClosed {
                    done(.failure(closed.error))
                    try channelClosed(closed, on: conn)
                    break
                }
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
                if now > deadline {
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
                    pendingConfirms.add(publishSeq) { [unowned self] result in
                        if case .failure(let error) = result, let p = self.pendingRequests.removeValue(forKey: id) { p.done(.failure(error)) }
                    }
                }
            case .cancelRequest(let id):
                pendingRequests.removeValue(forKey: id)?.done(.failure(AMQPError(.timeout, "the request was cancelled")))
            case .reject(let gen, let tag, let requeue):
                if gen == conn.generation {
                    try conn.reject(tag, requeue: requeue)
                    acks.rejected(tag)
                }
            case .queueOp(let op, let name, let done):
                do {
                    switch op {
                    case .depth: done(.success(try conn.declareQueue(name, durable: true, exclusive: false, arguments: [:], passive: true)))
                    case .purge:
                        try conn.purgeQueue(name)
                        done(.success(0))
                    case .delete:
                        try conn.deleteQueue(name)
                        done(.success(0))
                    }
                } catch let closed as ChannelClosed {
                    done(.failure(closed.error))
                    try channelClosed(closed, on: conn)
                } catch let error as AMQPError {
                    done(.failure(error))
                    throw error
                }
            case .stop:
                stopping = true
            }
            index += 1
        }
        try sendBufferedAcks(on: conn)
    }

    /// Declares exchanges, queues (with their dead-letter queues) and bindings.
    func declare(_ t: BusTopology, on conn: AMQPConnection) throws {
        for e in t.exchanges { try conn.declareExchange(e.name, type: e.type) }
        for q in t.queues { try conn.declare(q) }
    }
}
