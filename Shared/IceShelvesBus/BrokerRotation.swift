/// The brokers a client connects to, in turn: it starts with the first and, after a failed
/// attempt or a lost connection, moves on to the next; after the last comes the first again.
/// With one broker it always stays on it.
struct BrokerRotation: Sendable, Equatable {
    /// The brokers, in the order they are tried (never empty).
    let urls: [AMQPURL]
    /// The position of ``current`` in ``urls``.
    private(set) var index = 0

    init(_ urls: [AMQPURL]) {
        precondition(!urls.isEmpty, "a client needs at least one broker URL")
        self.urls = urls
    }

    /// The broker to connect to next.
    var current: AMQPURL { urls[index] }

    /// Moves on to the next broker.
    mutating func advance() { index = (index + 1) % urls.count }
}
