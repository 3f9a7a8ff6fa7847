/// Turns a batch of acks into as few `basic.ack` frames as is safe.
///
/// `basic.ack` with `multiple` acks every outstanding delivery up to a tag, so it is safe only
/// up to the highest tag below which every delivery is finished (acked or rejected). The
/// coalescer tracks delivered tags in order and finds that prefix. The multiple ack names the
/// highest tag of this batch inside the prefix (RabbitMQ refuses a tag that is no longer
/// outstanding); acks above the prefix go out one by one, at once. Delivery tags rise on a channel, so the tracking is a queue. Thread-confined to
/// the connection loop; reset it on every new connection.
struct AckCoalescer {
    private var delivered: [UInt64] = []
    private var head = 0
    private var finished: Set<UInt64> = []

    /// How many delivered messages are not yet known to be finished (an upper bound: acks above
    /// the finished prefix still count).
    var outstanding: Int { delivered.count - head }

    /// Records a delivery that will be acked or rejected later.
    mutating func delivered(_ tag: UInt64) { delivered.append(tag) }

    /// Records a rejected delivery (it is no longer outstanding).
    mutating func rejected(_ tag: UInt64) {
        finished.insert(tag)
        _ = advance()
    }

    /// The frames to send for acks of `tags`: at most one `multiple` ack, then single acks.
    mutating func acks(_ tags: [UInt64]) -> (multipleUpTo: UInt64?, singles: [UInt64]) {
        guard !tags.isEmpty else { return (nil, []) }
        for t in tags { finished.insert(t) }
        guard let upTo = advance() else { return (nil, tags.sorted()) }
        return (tags.filter { $0 <= upTo }.max(), tags.filter { $0 > upTo }.sorted())
    }

    /// Moves past every finished delivery at the front; returns the last tag passed.
    private mutating func advance() -> UInt64? {
        var last: UInt64?
        while head < delivered.count, finished.remove(delivered[head]) != nil {
            last = delivered[head]
            head += 1
        }
        if head > 4096, head * 2 > delivered.count {
            delivered.removeFirst(head)
            head = 0
        }
        return last
    }

    mutating func reset() {
        delivered = []
        head = 0
        finished = []
    }
}
