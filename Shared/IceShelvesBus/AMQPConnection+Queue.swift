import IceShelvesContracts

extension BusTopology.Queue {
    /// The `queue.declare` arguments: dead-lettering to ``BusNames/deadLetterExchange`` with the
    /// queue's own name as routing key; for a quorum queue its type and, for one with a delivery
    /// limit (a job queue), the limit and at-least-once dead-lettering (the broker keeps a dead
    /// letter until its dead-letter queue has it). Other quorum queues dead-letter at most once, as
    /// classic queues do: RabbitMQ 3.10's at-least-once worker can crash for good when such a queue
    /// is deleted just after the node restarted, and only jobs need it.
    var declareArguments: [String: HeaderValue] {
        var args: [String: HeaderValue] = [:]
        if deadLetter {
            args["x-dead-letter-exchange"] = .string(BusNames.deadLetterExchange)
            args["x-dead-letter-routing-key"] = .string(name)
        }
        if quorum { args["x-queue-type"] = .string("quorum") }
        if quorum, let deliveryLimit {
            args["x-delivery-limit"] = .int(Int64(deliveryLimit))
            if deadLetter {
                args["x-dead-letter-strategy"] = .string("at-least-once")
                args["x-overflow"] = .string("reject-publish")
            }
        }
        return args
    }

    /// The dead-letter queue `<name>.dlq`: a quorum queue like every durable queue, bound to
    /// ``BusNames/deadLetterExchange`` with the work queue's name.
    var deadLetterQueue: BusTopology.Queue {
        BusTopology.Queue(name: name + BusNames.deadLetterSuffix, deadLetter: false, bindings: [(BusNames.deadLetterExchange, name)])
    }
}

extension AMQPConnection {
    /// Declares a queue (with its dead-letter queue first) and its bindings.
    ///
    /// A queue the broker already holds with other arguments (a classic `deploy.*` queue left by a
    /// version before quorum job queues) fails with an error that says how to fix it.
    func declare(_ q: BusTopology.Queue) throws {
        if q.deadLetter {
            try declareExchange(BusNames.deadLetterExchange, type: "direct")
            try declare(q.deadLetterQueue)
        }
        do {
            try declareQueue(q.name, durable: q.durable, exclusive: q.exclusive, arguments: q.declareArguments)
        } catch let closed as ChannelClosed where closed.code == 406 && closed.text.contains("inequivalent arg") {
            // The channel is reopened by the loop; the caller gets the advice with the broker's words.
            throw ChannelClosed(
                channel: closed.channel,
                code: closed.code,
                text: Self.inequivalentAdvice(q, closed.text),
                operation: closed.operation
            )
        } catch let error as AMQPError where error.kind == .brokerError && error.message.contains("inequivalent arg") {
            throw AMQPError(.brokerError, Self.inequivalentAdvice(q, error.message))
        }
        for b in q.bindings { try bindQueue(q.name, exchange: b.exchange, key: b.key) }
    }

    /// What to do about a queue that exists with other arguments.
    static func inequivalentAdvice(_ q: BusTopology.Queue, _ brokerText: String) -> String {
        let kind =
            q.deliveryLimit.map { "a quorum queue with x-delivery-limit \($0)" } ?? (q.quorum ? "a quorum queue" : "a classic queue")
        return "\(brokerText). The broker already holds queue \(q.name) with other arguments, but this service declares it as \(kind)"
            + " (docs/operations.md, \"Upgrading to quorum queues\"): stop every IceShelves service, let the queue drain or move its"
            + " messages, delete it (rabbitmqctl delete_queue -p <vhost> \(q.name)), and start the services again;"
            + " every service must also use the same --delivery-limit (ICESHELVES_DELIVERY_LIMIT)"
    }
}
