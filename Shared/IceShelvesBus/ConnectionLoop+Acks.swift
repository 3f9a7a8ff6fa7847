/// Acks without a thread wake-up each.
///
/// A handler's ack is appended to the inbox's ack buffer under its lock. The loop drains the
/// buffer on every pass, before it reads from the socket, and sends the whole buffer as one
/// `multiple` ack where that is safe (``AckCoalescer``). An ack wakes a sleeping loop only when it
/// must: while deliveries stream in, the loop naps for at most ``ackNap`` and the socket wakes it
/// anyway, so acks ride along until half of the unacked deliveries are waiting; after a nap in
/// which nothing happened the loop sleeps deeply and the next ack wakes it at once.
extension ConnectionLoop {
    /// An ack waiting in the inbox for the loop's next pass.
    struct PendingAck: Sendable {
        let generation: UInt64
        let tag: UInt64
    }

    /// The longest an ack waits in the buffer while the loop naps between deliveries.
    static let ackNap: Int32 = 1

    /// Queues an ack for the loop's next pass; wakes the loop only when it sleeps and enough acks
    /// are waiting (see the type's overview). After stop the ack is dropped: the channel closes
    /// and the broker requeues the message.
    func ack(generation: UInt64, tag: UInt64) {
        let wake = inbox.withLock { box -> Bool in
            guard !box.stopped else { return false }
            box.acks.append(PendingAck(generation: generation, tag: tag))
            guard box.sleeping, box.acks.count >= box.ackWakeThreshold else { return false }
            box.sleeping = false
            return true
        }
        if wake { self.wake() }
    }

    /// Sends the buffered acks of this connection as few frames as is safe; acks from an older
    /// connection are dropped (the broker requeued those messages when it closed). The buffer is
    /// swapped with an emptied one that keeps its capacity.
    func sendBufferedAcks(on conn: AMQPConnection) throws {
        var pending = spareAcks
        spareAcks = []
        inbox.withLock { swap(&$0.acks, &pending) }
        defer {
            pending.removeAll(keepingCapacity: true)
            spareAcks = pending
        }
        try sendAcks(pending, on: conn)
    }

    /// Sends these acks as few frames as is safe, dropping those of an older connection.
    func sendAcks(_ pending: [PendingAck], on conn: AMQPConnection) throws {
        guard !pending.isEmpty else { return }
        var tags: [UInt64] = []
        tags.reserveCapacity(pending.count)
        for a in pending where a.generation == conn.generation { tags.append(a.tag) }
        let frames = acks.acks(tags)
        if let upTo = frames.multipleUpTo { try conn.ack(upTo, multiple: true) }
        for tag in frames.singles { try conn.ack(tag) }
    }
}
