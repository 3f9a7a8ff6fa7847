import Foundation
import IceShelvesContracts
import Logging

/// What the broker sends: deliveries for consumers, replies to requests, publisher confirms.
extension ConnectionLoop {
    /// A consumer as the loop knows it; kept across reconnects and resumed on each new connection.
    struct ConsumerSpec: Sendable {
        let tag: String
        let queue: String
        let prefetch: UInt16
        let noAck: Bool
        /// Called on the loop thread with the deliveries of one read pass; must not block.
        let deliver: @Sendable ([Delivery]) -> Void
        /// Called once when the consumer ends (cancel-ok, broker cancel or shutdown).
        let finish: @Sendable () -> Void
    }

    /// A request waiting for its reply on direct reply-to.
    struct PendingRequest {
        let deadline: ContinuousClock.Instant
        let routingKey: String
        let done: @Sendable (Result<Delivery, AMQPError>) -> Void
    }

    /// Handles whatever the broker has sent, up to a bound so commands are not starved.
    /// Deliveries are handed over once per pass and consumer, which saves a thread wake-up each.
    func pumpEvents() throws {
        guard let conn = connection else { return }
        var batches: [String: [Delivery]] = [:]
        defer { flush(&batches) }
        for _ in 0..<512 {
            guard let event = try conn.nextEvent() else { break }
            if case .channelClosed(let channel, let code, let text) = event {
                try channelClosed(ChannelClosed(channel: channel, code: code, text: text, operation: "channel \(channel)"), on: conn)
            } else {
                handle(event, batches: &batches)
            }
        }
        try advanceProbation(on: conn)
        expireRequests()
    }

    /// Hands each consumer the deliveries it got in this pass, in one call.
    func flush(_ batches: inout [String: [Delivery]]) {
        for (tag, deliveries) in batches { consumers[tag]?.deliver(deliveries) }
        batches = [:]
    }

    /// Fails the requests whose deadline has passed.
    func expireRequests() {
        guard !pendingRequests.isEmpty else { return }
        let now = ContinuousClock.now
        for (id, request) in pendingRequests where request.deadline <= now {
            pendingRequests.removeValue(forKey: id)
            request.done(.failure(AMQPError(.timeout, "no reply from \(request.routingKey) in time")))
        }
    }

    /// Fails every waiting request (lost connection or shutdown).
    func failRequests(_ error: AMQPError) {
        let requests = pendingRequests
        pendingRequests = [:]
        for request in requests.values { request.done(.failure(error)) }
    }

    /// Acts on one event; deliveries for consumers are collected in `batches`.
    func handle(_ event: AMQPConnection.Event, batches: inout [String: [Delivery]]) {
        switch event {
        case .deliver(let tag, let delivery):
            if tag == replyTag {
                if let id = delivery.properties.correlationId, let request = pendingRequests.removeValue(forKey: id) {
                    request.done(.success(delivery))
                }
            } else if let spec = consumers[tag] {
                if !spec.noAck { acks.delivered(delivery.deliveryTag) }
                batches[tag, default: []].append(delivery)
            } else {
                // Consumers stay registered until basic.cancel-ok, after which the broker sends
                // them nothing; an unknown tag means a broker bug. The message is requeued when
                // the channel closes.
                logger.warning("delivery for an unknown consumer", metadata: ["consumer_tag": "\(tag)"])
            }
        case .ack(AMQPConnection.side, let tag, let multiple):
            settleSide(tag: tag, multiple: multiple, nacked: false)
        case .nack(AMQPConnection.side, let tag, let multiple):
            settleSide(tag: tag, multiple: multiple, nacked: true)
        case .ack(_, let tag, let multiple):
            settle(tag: tag, multiple: multiple) { id in
                if let id, self.returnedIds.remove(id) != nil {
                    return .failure(AMQPError(.unroutable, "no queue received the message"))
                }
                return .success(())
            }
        case .nack(_, let tag, let multiple):
            settle(tag: tag, multiple: multiple) { _ in .failure(AMQPError(.nacked, "the broker refused the message")) }
        case .returned(let id, let text):
            if let id { returnedIds.insert(id) }
            logger.debug("message returned by the broker", metadata: ["reason": "\(text)"])
        case .cancelled(let tag), .cancelOk(let tag):
            flush(&batches)
            consumers.removeValue(forKey: tag)?.finish()
        case .blocked(let on):
            if on != blocked { logger.warning(on ? "broker blocked publishing (resource alarm)" : "broker unblocked publishing") }
            blocked = on
        case .other, .channelClosed:
            // A closed channel is handled in pumpEvents; during shutdown it no longer matters.
            break
        }
    }

    /// Resolves the publishes a confirm (or nack) covers.
    func settle(tag: UInt64, multiple: Bool, _ outcome: (String?) -> Result<Void, AMQPError>) {
        for (seq, done) in pendingConfirms.settle(tag, multiple: multiple) {
            done(outcome(idForTag.isEmpty ? nil : idForTag.removeValue(forKey: seq)))
        }
    }
}
