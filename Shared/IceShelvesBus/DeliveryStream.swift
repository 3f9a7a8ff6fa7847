/// The deliveries of one consumer, in order. The connection thread hands them over in batches
/// (one thread wake-up per read pass, not per message); this sequence yields them one by one.
public struct DeliveryStream: AsyncSequence, Sendable {
    public typealias Element = Delivery

    let batches: AsyncStream<[Delivery]>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var inner: AsyncStream<[Delivery]>.AsyncIterator
        var buffer: [Delivery] = []
        var index = 0

        public mutating func next() async -> Delivery? {
            while index == buffer.count {
                guard let batch = await inner.next() else { return nil }
                buffer = batch
                index = 0
            }
            defer { index += 1 }
            return buffer[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inner: batches.makeAsyncIterator()) }
}
