import IceShelvesContracts

extension AMQPClient {
    /// Publishes an envelope as a persistent JSON message and waits for the broker's confirm.
    ///
    /// - Parameters:
    ///   - exchange: `""` routes to the queue named `routingKey`.
    ///   - mandatory: when `true` (work messages), a message no queue takes is an error; events
    ///     that may have no subscriber pass `false`.
    public func publish<M: BusMessage>(
        _ envelope: Envelope<M>,
        exchange: String = "",
        routingKey: String,
        headers: [String: HeaderValue] = [:],
        mandatory: Bool = true
    ) async throws {
        try await publish(
            OutgoingMessage(
                exchange: exchange,
                routingKey: routingKey,
                body: try MessageCodec.encode(envelope),
                properties: Self.properties(for: envelope, headers: headers),
                mandatory: mandatory
            )
        )
    }

    /// Calls a service's RPC queue and decodes its reply.
    ///
    /// - Throws: ``RPCError`` when the service answered with a failure, ``AMQPError`` with kind
    ///   `timeout` when no reply came in time, ``ContractError`` when the reply is not a `Response`.
    public func call<Request: BusMessage, Response: BusMessage>(
        _ envelope: Envelope<Request>,
        service: ServiceName,
        expecting: Response.Type,
        timeout: Duration = .seconds(5)
    ) async throws -> Envelope<Response> {
        try await call(envelope, queue: service.rpcQueue, expecting: expecting, timeout: timeout)
    }

    /// Calls an RPC queue by name and decodes its reply.
    public func call<Request: BusMessage, Response: BusMessage>(
        _ envelope: Envelope<Request>,
        queue: String,
        expecting: Response.Type,
        timeout: Duration = .seconds(5)
    ) async throws -> Envelope<Response> {
        var properties = Self.properties(for: envelope, headers: [:])
        properties.correlationId = envelope.correlationId ?? envelope.messageId
        let reply = try await request(
            OutgoingMessage(routingKey: queue, body: try MessageCodec.encode(envelope), properties: properties, mandatory: true),
            timeout: timeout
        )
        if reply.properties.type == RPCFailure.messageType {
            let failure = try MessageCodec.decode(RPCFailure.self, from: reply.body)
            throw RPCError(code: failure.payload.code, message: failure.payload.message)
        }
        return try MessageCodec.decode(Response.self, from: reply.body)
    }

    static func properties<M: BusMessage>(for envelope: Envelope<M>, headers: [String: HeaderValue]) -> MessageProperties {
        MessageProperties(
            contentType: "application/json",
            messageId: envelope.messageId,
            correlationId: envelope.correlationId,
            type: M.messageType,
            persistent: true,
            headers: headers
        )
    }
}
