import CRabbitMQ

/// The broker closed channel 2 or 3 of a connection in answer to one operation (a missing
/// exchange or queue, a refused permission, a declaration with other arguments, a message it
/// would not take). The loop reopens the channel and fails that operation only.
struct ChannelClosed: Error, CustomStringConvertible {
    /// The channel the broker closed.
    let channel: amqp_channel_t
    /// The AMQP reply code, for example 404 (not found) or 406 (precondition failed).
    let code: UInt16
    /// The broker's reply text.
    let text: String
    /// What was being done, for the error message.
    let operation: String

    /// The error the failed operation's caller gets.
    var error: AMQPError { AMQPError(.brokerError, "\(operation): \(code) \(text)") }

    var description: String { error.message }
}
