import CRabbitMQ
import Logging

/// Channel 2: publishes to named exchanges and RPC replies (see ``AMQPConnection``).
///
/// A publish there can make the broker close the channel: a missing or forbidden exchange, a
/// malformed reply-to address a caller chose. The broker then drops that publish and every one
/// after it on the channel, but it does not say which publish it was. So the loop keeps every
/// unconfirmed publish of the channel; when the channel closes it reopens it and, if more than one
/// publish was waiting, sends them again one at a time (probation) until each is confirmed or is
/// alone when the channel closes again: that one is the culprit and fails, the others succeed.
/// Publishes the broker had taken before the culprit may so arrive twice, with the same message
/// id (at least once, as after a lost connection); none is lost.
extension ConnectionLoop {
    /// A publish on channel 2, kept until it is confirmed.
    struct SidePublish {
        let message: OutgoingMessage
        let deadline: ContinuousClock.Instant
        /// `nil` for RPC replies, which nobody waits for.
        let done: (@Sendable (Result<Void, AMQPError>) -> Void)?
    }

    /// The state of channel 2. Thread-confined to the loop.
    struct SideChannel {
        /// The confirm sequence number of the last publish on the current channel.
        var seq: UInt64 = 0
        /// Sent and not yet confirmed, in sequence order.
        var unconfirmed: [(seq: UInt64, publish: SidePublish)] = []
        /// After a channel error: publishes waiting to be sent one at a time.
        var probation: [SidePublish] = []
        /// `true` while the publishes are sent one at a time.
        var probing = false

        var isIdle: Bool { unconfirmed.isEmpty && probation.isEmpty }

        /// Removes and returns every publish, sent or waiting (lost connection or shutdown).
        mutating func removeAll() -> [SidePublish] {
            defer { self = SideChannel() }
            return unconfirmed.map(\.publish) + probation
        }
    }

    /// Sends a publish on channel 2, or queues it while the channel is on probation.
    func sendSide(_ publish: SidePublish, on conn: AMQPConnection) throws {
        if side.probing {
            side.probation.append(publish)
            try advanceProbation(on: conn)
        } else {
            try sendSideNow(publish, on: conn)
        }
    }

    private func sendSideNow(_ publish: SidePublish, on conn: AMQPConnection) throws {
        guard ContinuousClock.now <= publish.deadline else {
            publish.done?(.failure(AMQPError(.timeout, "publish timed out before it was sent")))
            return
        }
        do {
            try conn.publish(publish.message, on: AMQPConnection.side)
        } catch let error as AMQPError {
            publish.done?(.failure(error))
            throw error
        }
        side.seq += 1
        side.unconfirmed.append((side.seq, publish))
    }

    /// On probation, sends the next waiting publish once the one before it is confirmed; ends
    /// probation when nothing waits.
    func advanceProbation(on conn: AMQPConnection) throws {
        guard side.probing else { return }
        while side.unconfirmed.isEmpty, !side.probation.isEmpty {
            try sendSideNow(side.probation.removeFirst(), on: conn)
        }
        if side.isIdle { side.probing = false }
    }

    /// Resolves the publishes of channel 2 that a confirm (or nack) covers.
    func settleSide(tag: UInt64, multiple: Bool, nacked: Bool) {
        var settled: [SidePublish] = []
        if multiple {
            let count = side.unconfirmed.prefix { $0.seq <= tag }.count
            settled = side.unconfirmed.prefix(count).map(\.publish)
            side.unconfirmed.removeFirst(count)
        } else if let i = side.unconfirmed.firstIndex(where: { $0.seq == tag }) {
            settled = [side.unconfirmed.remove(at: i).publish]
        }
        for publish in settled {
            let returned = publish.message.properties.messageId.map { returnedIds.remove($0) != nil } ?? false
            if nacked {
                publish.done?(.failure(AMQPError(.nacked, "the broker refused the message")))
            } else if returned && publish.message.mandatory {
                publish.done?(.failure(AMQPError(.unroutable, "no queue received the message")))
            } else {
                publish.done?(.success(()))
            }
        }
    }

    /// The broker closed channel 2 or 3: reopen it, fail the culprit when it is known, and put
    /// the other unconfirmed publishes of channel 2 on probation.
    func channelClosed(_ closed: ChannelClosed, on conn: AMQPConnection) throws {
        try conn.reopen(closed.channel)
        logger.warning(
            "AMQP channel closed by the broker; reopened it",
            metadata: ["channel": "\(closed.channel)", "code": "\(closed.code)", "reason": "\(closed.text.prefix(300))"]
        )
        guard closed.channel == AMQPConnection.side else { return }
        let lost = side.unconfirmed.map(\.publish)
        side.unconfirmed = []
        side.seq = 0
        if lost.count == 1, let culprit = lost.first {
            let target = culprit.message.exchange.isEmpty ? "reply to a caller" : "exchange \(culprit.message.exchange)"
            if culprit.done == nil {
                logger.warning("an RPC reply was refused by the broker and dropped", metadata: ["reason": "\(closed.text.prefix(300))"])
            }
            culprit.done?(.failure(AMQPError(.brokerError, "publish to \(target.prefix(200)): \(closed.code) \(closed.text)")))
        } else if !lost.isEmpty {
            side.probation.insert(contentsOf: lost, at: 0)
            side.probing = true
        }
        try advanceProbation(on: conn)
    }
}
