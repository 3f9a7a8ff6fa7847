import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif

/// One rabbitmq-c connection with three channels, so that a channel error stays with the
/// operation that caused it:
///
/// - channel 1 (``channel``, confirm mode): consumers and their acks, direct reply-to and the
///   requests, and confirmed publishes to the default exchange (jobs);
/// - channel 2 (``side``, confirm mode): publishes whose success depends on the broker's state or
///   on a caller's input: to a named exchange (it may be missing or forbidden) and RPC replies
///   (the reply-to address comes from the caller);
/// - channel 3 (``control``): declarations and queue operations, which the broker answers with a
///   channel error when they fail (a missing queue, a declaration with other arguments).
///
/// When the broker closes channel 2 or 3, the loop reopens it on the same connection
/// (``reopen(_:)``); only a closed channel 1 or a closed connection costs a reconnect.
///
/// rabbitmq-c is not thread-safe and its calls block, so this class is deliberately not
/// `Sendable`: only ``ConnectionLoop``'s own thread touches it.
final class AMQPConnection {
    /// A frame read from the broker, already decoded into what the loop acts on.
    enum Event {
        case deliver(consumerTag: String, Delivery)
        case ack(channel: amqp_channel_t, tag: UInt64, multiple: Bool)
        case nack(channel: amqp_channel_t, tag: UInt64, multiple: Bool)
        case returned(messageId: String?, replyText: String)
        /// The broker closed channel 2 or 3 (a closed channel 1 is thrown: it ends the connection).
        case channelClosed(channel: amqp_channel_t, code: UInt16, text: String)
        case cancelled(consumerTag: String)
        case cancelOk(consumerTag: String)
        case blocked(Bool)
        case other
    }

    let state: amqp_connection_state_t
    /// Channel 1: consumers, acks, requests and default-exchange publishes.
    let channel: amqp_channel_t = 1
    /// Channel 2: publishes to named exchanges and RPC replies.
    static let side: amqp_channel_t = 2
    /// Channel 3: declarations and queue operations.
    static let control: amqp_channel_t = 3
    let generation: UInt64
    /// The broker user this connection logged in as. Every message it publishes carries it as
    /// `user_id`, which RabbitMQ checks against the login, so a receiver knows who sent it.
    let user: String
    private var closed = false

    init(url: AMQPURL, heartbeatSeconds: Int32, timeoutSeconds: Int, generation: UInt64) throws {
        guard let state = amqp_new_connection() else { throw AMQPError(.connectionFailed, "out of memory") }
        self.state = state
        self.generation = generation
        self.user = url.user
        // From here on, a throw runs deinit, which frees `state`: never free it here as well.
        let socket = try Self.socket(for: url, state: state)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        let rc = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &timeout)
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot connect to \(url.host):\(url.port): \(Self.statusText(rc))")
        }
        _ = amqp_set_handshake_timeout(state, &timeout)
        _ = amqp_set_rpc_timeout(state, &timeout)
        try check(iceshelves_amqp_login_plain(state, url.vhost, 0, 131_072, heartbeatSeconds, url.user, url.password), "login")
        for ch in [channel, Self.side, Self.control] { try open(ch) }
    }

    /// Opens a channel; channels 1 and 2 go into confirm mode.
    private func open(_ ch: amqp_channel_t) throws {
        amqp_channel_open(state, ch)
        try checkReply("channel.open", on: ch)
        if ch != Self.control {
            amqp_confirm_select(state, ch)
            try checkReply("confirm.select", on: ch)
        }
    }

    /// Answers the broker's channel.close with close-ok and opens the channel again.
    func reopen(_ ch: amqp_channel_t) throws {
        var closeOk = amqp_channel_close_ok_t()
        try checkStatus(amqp_send_method(state, ch, iceshelves_amqp_channel_close_ok_method(), &closeOk), "channel.close-ok")
        try open(ch)
    }

    deinit {
        if !closed { amqp_destroy_connection(state) }
    }

    /// Closes gracefully when the broker is still there, then frees the connection.
    func close(graceful: Bool) {
        guard !closed else { return }
        closed = true
        if graceful {
            for ch in [Self.control, Self.side, channel] { _ = amqp_channel_close(state, ch, Int32(AMQP_REPLY_SUCCESS)) }
            _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        }
        amqp_destroy_connection(state)
    }

    var socketFD: Int32 { amqp_get_sockfd(state) }

    /// While corked (`TCP_CORK`) the kernel holds back partial segments, so the frames of many
    /// publishes leave in a few segments and wake the broker once instead of once per message.
    /// Uncorking sends what is held at once.
    func setCorked(_ corked: Bool) {
        var value: Int32 = corked ? 1 : 0
        _ = setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// `true` when rabbitmq-c already holds unread frames or bytes, so the socket need not be polled.
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    /// A TCP socket, or for `amqps://` a TLS socket that verifies the broker's certificate and name.
    private static func socket(for url: AMQPURL, state: amqp_connection_state_t) throws -> OpaquePointer {
        guard url.tls else {
            guard let socket = amqp_tcp_socket_new(state) else { throw AMQPError(.connectionFailed, "cannot create a TCP socket") }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else { throw AMQPError(.connectionFailed, "cannot create a TLS socket") }
        let ca = url.caFile ?? "/etc/ssl/certs/ca-certificates.crt"
        let rc = amqp_ssl_socket_set_cacert(socket, ca)
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot read the CA certificates in \(ca): \(statusText(rc))")
        }
        amqp_ssl_socket_set_verify_peer(socket, 1)
        amqp_ssl_socket_set_verify_hostname(socket, 1)
        return socket
    }

    // MARK: Topology

    func declareExchange(_ name: String, type: String) throws {
        name.withCString { n in
            type.withCString { t in
                _ = amqp_exchange_declare(state, Self.control, amqp_cstring_bytes(n), amqp_cstring_bytes(t), 0, 1, 0, 0, amqp_empty_table)
            }
        }
        try checkReply("exchange.declare \(name)", on: Self.control)
    }

    @discardableResult
    func declareQueue(_ name: String, durable: Bool, exclusive: Bool, arguments: [String: HeaderValue], passive: Bool = false) throws -> UInt32 {
        let args = FieldTable(arguments)
        // withExtendedLifetime: the table's C memory must outlive the call that reads it.
        let ok = withExtendedLifetime(args) {
            name.withCString { n in
                amqp_queue_declare(
                    state,
                    Self.control,
                    amqp_cstring_bytes(n),
                    passive ? 1 : 0,
                    durable ? 1 : 0,
                    exclusive ? 1 : 0,
                    exclusive ? 1 : 0,
                    args.table
                )
            }
        }
        try checkReply("queue.declare \(name)", on: Self.control)
        return ok?.pointee.message_count ?? 0
    }

    func bindQueue(_ queue: String, exchange: String, key: String) throws {
        queue.withCString { q in
            exchange.withCString { e in
                key.withCString { k in
                    _ = amqp_queue_bind(state, Self.control, amqp_cstring_bytes(q), amqp_cstring_bytes(e), amqp_cstring_bytes(k), amqp_empty_table)
                }
            }
        }
        try checkReply("queue.bind \(queue)", on: Self.control)
    }

    func deleteQueue(_ name: String) throws {
        _ = name.withCString { amqp_queue_delete(state, Self.control, amqp_cstring_bytes($0), 0, 0) }
        try checkReply("queue.delete \(name)", on: Self.control)
    }

    func purgeQueue(_ name: String) throws {
        _ = name.withCString { amqp_queue_purge(state, Self.control, amqp_cstring_bytes($0)) }
        try checkReply("queue.purge \(name)", on: Self.control)
    }

    // MARK: Consuming

    func consume(queue: String, tag: String, prefetch: UInt16, noAck: Bool) throws {
        if !noAck {
            amqp_basic_qos(state, channel, 0, prefetch, 0)
            try checkReply("basic.qos")
        }
        queue.withCString { q in
            tag.withCString { t in
                _ = amqp_basic_consume(state, channel, amqp_cstring_bytes(q), amqp_cstring_bytes(t), 0, noAck ? 1 : 0, 0, amqp_empty_table)
            }
        }
        try checkReply("basic.consume \(queue)")
    }

    /// Sends basic.cancel without waiting: the loop sees basic.cancel-ok as an event.
    func sendCancel(tag: String) throws {
        var method = amqp_basic_cancel_t()
        let table = FieldTable([:])
        method.consumer_tag = table.bytes(tag)
        method.nowait = 0
        let rc = withExtendedLifetime(table) { amqp_send_method(state, channel, iceshelves_amqp_basic_cancel_method(), &method) }
        try checkStatus(rc, "basic.cancel")
    }

    func ack(_ tag: UInt64, multiple: Bool = false) throws {
        try checkStatus(amqp_basic_ack(state, channel, tag, multiple ? 1 : 0), "basic.ack")
    }

    func reject(_ tag: UInt64, requeue: Bool) throws {
        try checkStatus(amqp_basic_reject(state, channel, tag, requeue ? 1 : 0), "basic.reject")
    }

    // MARK: Publishing

    /// Sends basic.publish with its header and body frames, on channel 1 unless told otherwise.
    ///
    /// Every string of the frame is copied into one buffer (one allocation per message); only
    /// headers need a ``FieldTable``.
    func publish(_ message: OutgoingMessage, on ch: amqp_channel_t? = nil) throws {
        let ch = ch ?? channel
        let p = message.properties
        var text: [UInt8] = []
        text.reserveCapacity(128)
        func put(_ s: String?) -> Range<Int>? {
            guard let s else { return nil }
            let start = text.count
            text.append(contentsOf: s.utf8)
            return start..<text.count
        }
        let exchange = put(message.exchange)!
        let key = put(message.routingKey)!
        let contentType = put(p.contentType)
        let messageId = put(p.messageId)
        let correlationId = put(p.correlationId)
        let replyTo = put(p.replyTo)
        let expiration = put(p.expiration)
        let type = put(p.type)
        let userId = put(user)!
        text.append(0)  // never empty, so the buffer has an address
        let headers = p.headers.isEmpty ? nil : FieldTable(p.headers)
        let rc = withExtendedLifetime(headers) {
            text.withUnsafeMutableBytes { raw -> Int32 in
                func bytes(_ r: Range<Int>) -> amqp_bytes_t {
                    amqp_bytes_t(len: r.count, bytes: raw.baseAddress!.advanced(by: r.lowerBound))
                }
                var props = amqp_basic_properties_t()
                var flags = iceshelves_amqp_flag_delivery_mode()
                props.delivery_mode = p.persistent ? 2 : 1
                if let r = contentType {
                    flags |= iceshelves_amqp_flag_content_type()
                    props.content_type = bytes(r)
                }
                if let r = messageId {
                    flags |= iceshelves_amqp_flag_message_id()
                    props.message_id = bytes(r)
                }
                if let r = correlationId {
                    flags |= iceshelves_amqp_flag_correlation_id()
                    props.correlation_id = bytes(r)
                }
                if let r = replyTo {
                    flags |= iceshelves_amqp_flag_reply_to()
                    props.reply_to = bytes(r)
                }
                if let r = expiration {
                    flags |= iceshelves_amqp_flag_expiration()
                    props.expiration = bytes(r)
                }
                if let r = type {
                    flags |= iceshelves_amqp_flag_type()
                    props.type = bytes(r)
                }
                flags |= iceshelves_amqp_flag_user_id()
                props.user_id = bytes(userId)
                if let headers {
                    flags |= iceshelves_amqp_flag_headers()
                    props.headers = headers.table
                }
                props._flags = flags
                return message.body.withUnsafeBytes { body in
                    amqp_basic_publish(
                        state,
                        ch,
                        bytes(exchange),
                        bytes(key),
                        message.mandatory ? 1 : 0,
                        0,
                        &props,
                        amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                    )
                }
            }
        }
        try checkStatus(rc, "basic.publish")
    }

    // MARK: Reading

    /// Reads one frame without blocking. Returns `nil` when nothing is ready.
    ///
    /// Everything the event holds is copied into Swift values, so the frame's C memory is
    /// released before the next read.
    func nextEvent() throws -> Event? {
        amqp_maybe_release_buffers(state)
        var frame = amqp_frame_t()
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        let rc = amqp_simple_wait_frame_noblock(state, &frame, &zero)
        if rc == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try checkStatus(rc, "read frame")
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return .other }
        let id = frame.payload.method.id
        let decoded = frame.payload.method.decoded
        switch id {
        case iceshelves_amqp_basic_deliver_method():
            let m = decoded!.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let consumerTag = FieldTable.string(m.consumer_tag)
            let exchange = FieldTable.string(m.exchange)
            let routingKey = FieldTable.string(m.routing_key)
            let (props, body) = try readContent(on: frame.channel)
            return .deliver(
                consumerTag: consumerTag,
                Delivery(
                    body: body,
                    properties: props,
                    exchange: exchange,
                    routingKey: routingKey,
                    redelivered: m.redelivered != 0,
                    deliveryTag: m.delivery_tag,
                    generation: generation
                )
            )
        case iceshelves_amqp_basic_ack_method():
            let m = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(channel: frame.channel, tag: m.delivery_tag, multiple: m.multiple != 0)
        case iceshelves_amqp_basic_nack_method():
            let m = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(channel: frame.channel, tag: m.delivery_tag, multiple: m.multiple != 0)
        case iceshelves_amqp_basic_return_method():
            let m = decoded!.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let text = FieldTable.string(m.reply_text)
            let (props, _) = try readContent(on: frame.channel)
            return .returned(messageId: props.messageId, replyText: text)
        case iceshelves_amqp_basic_cancel_method():
            let m = decoded!.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .cancelled(consumerTag: FieldTable.string(m.consumer_tag))
        case iceshelves_amqp_basic_cancel_ok_method():
            let m = decoded!.assumingMemoryBound(to: amqp_basic_cancel_ok_t.self).pointee
            return .cancelOk(consumerTag: FieldTable.string(m.consumer_tag))
        case iceshelves_amqp_channel_close_method() where frame.channel != channel:
            let m = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return .channelClosed(channel: frame.channel, code: m.reply_code, text: FieldTable.string(m.reply_text))
        case iceshelves_amqp_channel_close_method(), iceshelves_amqp_connection_close_method():
            let m = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw AMQPError(
                .brokerError,
                "broker closed the \(id == iceshelves_amqp_channel_close_method() ? "channel" : "connection"): \(m.reply_code) \(FieldTable.string(m.reply_text))"
            )
        case iceshelves_amqp_connection_blocked_method():
            return .blocked(true)
        case iceshelves_amqp_connection_unblocked_method():
            return .blocked(false)
        default:
            return .other
        }
    }

    /// Reads the header and body frames that follow basic.deliver or basic.return.
    private func readContent(on ch: amqp_channel_t) throws -> (MessageProperties, [UInt8]) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, ch, &message, 0)
        try check(reply, "read message")
        defer { amqp_destroy_message(&message) }
        let p = message.properties
        func opt(_ flag: amqp_flags_t, _ b: amqp_bytes_t) -> String? { p._flags & flag != 0 ? FieldTable.string(b) : nil }
        let props = MessageProperties(
            contentType: opt(iceshelves_amqp_flag_content_type(), p.content_type),
            messageId: opt(iceshelves_amqp_flag_message_id(), p.message_id),
            correlationId: opt(iceshelves_amqp_flag_correlation_id(), p.correlation_id),
            replyTo: opt(iceshelves_amqp_flag_reply_to(), p.reply_to),
            expiration: opt(iceshelves_amqp_flag_expiration(), p.expiration),
            type: opt(iceshelves_amqp_flag_type(), p.type),
            userId: opt(iceshelves_amqp_flag_user_id(), p.user_id),
            persistent: p._flags & iceshelves_amqp_flag_delivery_mode() != 0 && p.delivery_mode == 2,
            headers: p._flags & iceshelves_amqp_flag_headers() != 0 ? FieldTable.read(p.headers) : [:]
        )
        let body: [UInt8] =
            message.body.len > 0
            ? Array(UnsafeRawBufferPointer(start: message.body.bytes, count: message.body.len))
            : []
        return (props, body)
    }

    // MARK: Errors

    private func checkReply(_ what: String, on ch: amqp_channel_t? = nil) throws {
        try check(amqp_get_rpc_reply(state), what, on: ch ?? channel)
    }

    /// Throws ``ChannelClosed`` when the broker closed channel 2 or 3 in answer, and
    /// ``AMQPError`` for everything else.
    private func check(_ reply: amqp_rpc_reply_t, _ what: String, on ch: amqp_channel_t? = nil) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw AMQPError(.connectionLost, "\(what): \(Self.statusText(reply.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == iceshelves_amqp_channel_close_method() || reply.reply.id == iceshelves_amqp_connection_close_method() {
                let m = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                if reply.reply.id == iceshelves_amqp_channel_close_method(), let ch, ch != channel {
                    throw ChannelClosed(channel: ch, code: m.reply_code, text: FieldTable.string(m.reply_text), operation: what)
                }
                throw AMQPError(.brokerError, "\(what): \(m.reply_code) \(FieldTable.string(m.reply_text))")
            }
            throw AMQPError(.brokerError, "\(what): broker error (method 0x\(String(reply.reply.id, radix: 16)))")
        default:
            throw AMQPError(.connectionLost, "\(what): no reply from the broker")
        }
    }

    private func checkStatus(_ rc: Int32, _ what: String) throws {
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionLost, "\(what): \(Self.statusText(rc))")
        }
    }

    static func statusText(_ rc: Int32) -> String { String(cString: amqp_error_string2(rc)) }
}
