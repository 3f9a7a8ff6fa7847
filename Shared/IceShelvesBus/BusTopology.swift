import IceShelvesContracts

/// Exchanges and queues to declare on connect, and again after every reconnect.
public struct BusTopology: Sendable, Equatable {
    /// An exchange declaration.
    public struct Exchange: Sendable, Equatable {
        public var name: String
        /// `direct`, `topic` or `fanout`.
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// A queue declaration with its bindings.
    public struct Queue: Sendable, Equatable {
        public var name: String
        public var durable: Bool
        /// When `true`, the queue dead-letters to ``BusNames/deadLetterExchange`` with its own name
        /// as routing key, and its dead-letter queue `<name>.dlq` is declared with it.
        public var deadLetter: Bool
        /// Auto-delete exclusive queues (for event subscribers that live with the connection).
        public var exclusive: Bool
        /// `(exchange, routing key)` bindings.
        public var bindings: [(exchange: String, key: String)]
        /// A quorum queue (`x-queue-type: quorum`): replicated on the nodes of a cluster, so it and
        /// its messages survive the loss of a minority of them. Every durable queue is one unless
        /// its declaration says otherwise; an exclusive or non-durable queue cannot be.
        public var quorum: Bool
        /// For a quorum queue, the broker dead-letters a message after this many returns without
        /// an ack (`x-delivery-limit`); `nil`: no limit. Setting it makes the queue a quorum queue.
        public var deliveryLimit: Int?

        /// A queue; `quorum` defaults to `durable && !exclusive`.
        public init(
            name: String,
            durable: Bool = true,
            deadLetter: Bool = true,
            exclusive: Bool = false,
            bindings: [(exchange: String, key: String)] = [],
            deliveryLimit: Int? = nil,
            quorum: Bool? = nil
        ) {
            self.name = name
            self.durable = durable
            self.deadLetter = deadLetter
            self.exclusive = exclusive
            self.bindings = bindings
            self.deliveryLimit = deliveryLimit
            self.quorum = deliveryLimit != nil || (quorum ?? (durable && !exclusive))
        }

        public static func == (a: Queue, b: Queue) -> Bool {
            a.name == b.name && a.durable == b.durable && a.deadLetter == b.deadLetter && a.exclusive == b.exclusive
                && a.quorum == b.quorum && a.deliveryLimit == b.deliveryLimit
                && a.bindings.map { "\($0.exchange) \($0.key)" } == b.bindings.map { "\($0.exchange) \($0.key)" }
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]

    public init(exchanges: [Exchange] = [], queues: [Queue] = []) {
        self.exchanges = exchanges
        self.queues = queues
    }

    /// The exchanges every service needs: the dead-letter exchange and the events exchange.
    public static let base = BusTopology(exchanges: [
        Exchange(name: BusNames.deadLetterExchange, type: "direct"),
        Exchange(name: BusNames.eventsExchange, type: "topic"),
    ])

    /// A durable quorum work queue with its dead-letter queue. A job queue (``BusNames/jobQueues``)
    /// also has ``BusNames/defaultDeliveryLimit``, whoever declares it, so every service declares
    /// it alike (an ``AMQPClient/Configuration/deliveryLimit`` may lower the limit).
    public static func workQueue(_ name: String) -> BusTopology {
        BusNames.jobQueues.contains(name)
            ? quorumQueue(name, deliveryLimit: BusNames.defaultDeliveryLimit) : BusTopology(exchanges: base.exchanges, queues: [Queue(name: name)])
    }

    /// A durable quorum work queue with its dead-letter queue: the broker dead-letters a message
    /// once it was handed out `deliveryLimit` + 1 times without an ack (its consumers crashed).
    public static func quorumQueue(_ name: String, deliveryLimit: Int) -> BusTopology {
        BusTopology(exchanges: base.exchanges, queues: [Queue(name: name, deliveryLimit: max(0, deliveryLimit))])
    }

    /// This topology with every quorum queue's delivery limit set to `limit` (`nil`: unchanged).
    public func withDeliveryLimit(_ limit: Int?) -> BusTopology {
        guard let limit else { return self }
        var result = self
        for i in result.queues.indices where result.queues[i].deliveryLimit != nil { result.queues[i].deliveryLimit = max(0, limit) }
        return result
    }

    /// An exclusive, auto-deleted queue bound to the events exchange: a listener (of cancels, or
    /// of a deployment's progress) that lives and dies with its connection.
    public static func eventListener(_ name: String, binding: String) -> BusTopology {
        BusTopology(
            exchanges: base.exchanges,
            queues: [Queue(name: name, durable: false, deadLetter: false, exclusive: true, bindings: [(BusNames.eventsExchange, binding)])]
        )
    }

    /// The union of two topologies, without repeating a declaration.
    public func merging(_ other: BusTopology) -> BusTopology {
        var result = self
        for e in other.exchanges where !result.exchanges.contains(e) { result.exchanges.append(e) }
        for q in other.queues where !result.queues.contains(q) { result.queues.append(q) }
        return result
    }
}
