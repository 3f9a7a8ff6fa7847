import Crypto
import Foundation
import IceShelvesBus
import IceShelvesContracts

/// A job the bus gave up on, as the gateway keeps it: taken off a job queue's `<queue>.dlq`
/// (``DeadLetterIngest``), listed, requeued or dropped by an admin (`/api/admin/dead-letters`).
///
/// Jobs carry no secret (the cluster's connection travels only in `cluster.connection` answers),
/// so neither does a dead letter; the API still shows only its metadata, never its body.
struct DeadLetter: Sendable, Equatable {
    /// `dl-` and 16 hex digits of a hash of the message id and its requeue count: the same dead
    /// letter delivered twice has the same id, a job dead-lettered again after a requeue a new one.
    var id: String
    /// The job queue it came from (`deploy.render`, `deploy.lxd`, …).
    var queue: String
    var deploymentId: String?
    /// `delivery_limit` (its consumers crashed), `rejected` (a consumer gave up on it), `expired` or `maxlen`.
    var reason: String
    /// A sentence for people: the consumer's reason, or what the broker's reason means.
    var detail: String
    /// How often it was handed out (`delivery_limit`) or handled (`rejected`) before it was dead-lettered.
    var count: Int
    /// How often an admin requeued it before.
    var requeues: Int
    var messageType: String?
    var messageId: String?
    var correlationId: String?
    var contentType: String?
    var headers: [String: HeaderValue]
    var body: [UInt8]
    var deadAt: String

    /// The reason when the broker dead-lettered a job after its delivery limit.
    static let deliveryLimit = "delivery_limit"
    /// The reason when a consumer dead-lettered a job.
    static let rejected = "rejected"

    /// Reads a delivery from `<queue>.dlq`. Anyone who may publish to a job queue can put any
    /// bytes there, so every field is bounded and nothing in it is trusted.
    init(delivery: Delivery, queue: String, deliveryLimit: Int, now: String = Timestamp.now()) {
        self.init(body: delivery.body, properties: delivery.properties, queue: queue, deliveryLimit: deliveryLimit, now: now)
    }

    /// Reads a dead-lettered message's body and properties.
    init(body: [UInt8], properties p: MessageProperties, queue: String, deliveryLimit: Int, now: String = Timestamp.now()) {
        let headers = p.headers
        let consumerReason = headers[BusNames.deadReasonHeader]?.stringValue
        let brokerReason = headers[BusNames.firstDeathReasonHeader]?.stringValue
        let reason = String((brokerReason ?? Self.rejected).prefix(40))
        let requeues = Self.bounded(headers[BusNames.requeuesHeader]?.intValue)
        let attempts = Self.bounded(headers[BusNames.attemptsHeader]?.intValue)
        let key = "\(p.messageId ?? Self.hex(SHA256.hash(data: body)))/\(requeues)"
        id = "dl-" + Self.hex(SHA256.hash(data: Array(key.utf8))).prefix(16)
        self.queue = queue
        deploymentId = Self.deploymentId(in: body)
        self.reason = reason
        switch reason {
        case Self.deliveryLimit:
            // The broker gave up after `deliveryLimit` returns: it handed the job out once more
            // than that. (RabbitMQ 3.10 drops x-delivery-count from the dead letter; a later one may keep it.)
            count = Self.bounded(headers[BusNames.deliveryCountHeader]?.intValue ?? Int64(deliveryLimit)) + 1
            detail = "the broker handed the job out \(count) times and no consumer finished it (each one crashed or lost its connection)"
        default:
            count = attempts + 1
            detail = consumerReason.map { String($0.prefix(1000)) } ?? "the broker dead-lettered the job (\(reason))"
        }
        self.requeues = requeues
        messageType = p.type.map { String($0.prefix(100)) }
        messageId = p.messageId.map { String($0.prefix(200)) }
        correlationId = p.correlationId.map { String($0.prefix(200)) }
        contentType = p.contentType.map { String($0.prefix(100)) }
        self.headers = headers
        self.body = body
        deadAt = now
    }

    init(
        id: String,
        queue: String,
        deploymentId: String?,
        reason: String,
        detail: String,
        count: Int,
        requeues: Int,
        messageType: String?,
        messageId: String?,
        correlationId: String?,
        contentType: String?,
        headers: [String: HeaderValue],
        body: [UInt8],
        deadAt: String
    ) {
        self.id = id
        self.queue = queue
        self.deploymentId = deploymentId
        self.reason = reason
        self.detail = detail
        self.count = count
        self.requeues = requeues
        self.messageType = messageType
        self.messageId = messageId
        self.correlationId = correlationId
        self.contentType = contentType
        self.headers = headers
        self.body = body
        self.deadAt = deadAt
    }

    /// A count from a header, which anyone who may publish can set: 0 to a million, so that
    /// adding one never overflows.
    static func bounded(_ value: Int64?) -> Int { Int(min(max(value ?? 0, 0), 1_000_000)) }

    /// A job its consumer refused unread because its publisher may not send jobs
    /// (``QueueWorker``'s `publishers`): requeueing it would send it again as the gateway, which
    /// every consumer trusts.
    var fromUntrustedPublisher: Bool { reason == Self.rejected && detail.hasPrefix("not a trusted publisher") }

    /// The job as it goes back to its queue: the same body and message id, the broker's and the
    /// workers' counts and reasons removed (a fresh start), the requeue count one higher.
    var requeued: OutgoingMessage {
        var h = headers
        for name in BusNames.brokerDeathHeaders + [BusNames.deliveryCountHeader, BusNames.attemptsHeader, BusNames.deadReasonHeader] {
            h[name] = nil
        }
        h[BusNames.requeuesHeader] = .int(Int64(requeues + 1))
        return OutgoingMessage(
            routingKey: queue,
            body: body,
            properties: MessageProperties(
                contentType: contentType,
                messageId: messageId,
                correlationId: correlationId,
                type: messageType,
                persistent: true,
                headers: h
            ),
            mandatory: true
        )
    }

    /// The envelope's `deployment_id`, when the body is an envelope at all.
    static func deploymentId(in body: [UInt8]) -> String? {
        struct Probe: Decodable {
            var deploymentId: String?
            enum CodingKeys: String, CodingKey { case deploymentId = "deployment_id" }
        }
        guard body.count <= 64 << 20, let probe = try? JSONDecoder().decode(Probe.self, from: Data(body)), let id = probe.deploymentId,
            !id.isEmpty, id.count <= 200
        else { return nil }
        return id
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}
