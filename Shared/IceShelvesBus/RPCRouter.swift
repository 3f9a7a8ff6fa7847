import IceShelvesContracts
import Logging

/// The handlers of a service's RPC queue, by message type. Build it before the server runs.
public struct RPCRouter: Sendable {
    /// Turns request bytes into reply bytes; throws ``RPCError`` or any error.
    typealias Handler = @Sendable (_ body: [UInt8], _ caller: String?, _ logger: Logger) async throws -> (type: String, body: [UInt8])

    private(set) var handlers: [String: Handler] = [:]

    /// A router with no handlers.
    public init() {}

    /// Adds a handler for `Request` messages that answers with a `Response`.
    public mutating func on<Request: BusMessage, Response: BusMessage>(
        _ request: Request.Type,
        _ handler: @escaping @Sendable (Envelope<Request>, Logger) async throws -> Response
    ) {
        onCall(request) { envelope, call in try await handler(envelope, call.logger) }
    }

    /// Adds a handler that also learns who called: the broker user that published the request.
    public mutating func onCall<Request: BusMessage, Response: BusMessage>(
        _ request: Request.Type,
        _ handler: @escaping @Sendable (Envelope<Request>, RPCCall) async throws -> Response
    ) {
        handlers[Request.messageType] = { body, caller, logger in
            let envelope: Envelope<Request>
            do {
                envelope = try MessageCodec.decode(Request.self, from: body)
            } catch {
                throw RPCError.badRequest("\(error)")
            }
            var logger = logger
            if let id = envelope.deploymentId { logger[metadataKey: "deployment_id"] = "\(id)" }
            let response = try await handler(envelope, RPCCall(caller: caller, logger: logger))
            let reply = Envelope(response, correlationId: envelope.correlationId ?? envelope.messageId, deploymentId: envelope.deploymentId)
            return (Response.messageType, try MessageCodec.encode(reply))
        }
    }

    /// The message types this router answers.
    public var messageTypes: [String] { handlers.keys.sorted() }
}
