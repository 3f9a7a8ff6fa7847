/// The deliveries of one consumer, in order. The connection thread hands them over in batches
/// (one thread wake-up per read pass, not per message); this sequence yields them one by one.
///
/// Iterating runs in the caller's isolation (`for await` passes it): a consumer loop on an actor
/// takes the deliveries of a batch without an executor hop each, and only waits, on its own
/// actor, when the batch is used up.
public struct DeliveryStream: AsyncSequence, Sendable {
    /// One delivery.
    public typealias Element = Delivery
    /// Iterating never throws: the stream just ends after cancel or shutdown.
    public typealias Failure = Never

    let batches: AsyncStream<[Delivery]>

    /// Yields the deliveries of each batch in order.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var inner: AsyncStream<[Delivery]>.AsyncIterator
        var buffer: [Delivery] = []
        var index = 0

        /// The next delivery, or `nil` once the consumer has ended.
        public mutating func next() async -> Delivery? {
            while index == buffer.count {
                guard let batch = await inner.next() else { return nil }
                buffer = batch
                index = 0
            }
            defer { index += 1 }
            return buffer[index]
        }

        /// The next delivery, taken in the caller's isolation; what `for await` calls.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> Delivery? {
            while index == buffer.count {
                guard let batch = await inner.next(isolation: actor) else { return nil }
                buffer = batch
                index = 0
            }
            defer { index += 1 }
            return buffer[index]
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inner: batches.makeAsyncIterator()) }
}
