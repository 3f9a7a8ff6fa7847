extension AMQPURL {
    /// Parses a comma-separated list of broker URLs: the nodes of one RabbitMQ cluster, in the
    /// order a client tries them (`amqp://u:p@node1:5672/v,amqp://u:p@node2:5672/v`). One URL is a
    /// list of one, parsed exactly as ``init(parsing:)`` does.
    ///
    /// A comma separates two URLs only where the next one starts (`amqp://` or `amqps://`, after
    /// optional spaces), so a password holding a comma still parses. Every URL must name the same
    /// user and vhost: users and vhosts belong to the whole cluster, and the services' queues and
    /// permissions assume one of each. Errors never show a password.
    public static func list(parsing text: String) throws -> [AMQPURL] {
        var pieces: [Substring] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let next = part.drop { $0 == " " }
            if pieces.isEmpty || next.hasPrefix("amqp://") || next.hasPrefix("amqps://") {
                pieces.append(part)
            } else if next.contains("://") {
                throw AMQPError.invalidURL("every URL in the list must start with amqp:// or amqps://")
            } else {
                pieces[pieces.count - 1] = text[pieces[pieces.count - 1].startIndex..<part.endIndex]
            }
        }
        if pieces.count == 1 { return [try AMQPURL(parsing: text)] }
        var urls: [AMQPURL] = []
        for (index, piece) in pieces.enumerated() {
            do {
                urls.append(try AMQPURL(parsing: String(piece.trimmingSpaces)))
            } catch let error as AMQPError {
                throw AMQPError(error.kind, "\(error.message) (URL \(index + 1) of \(pieces.count))")
            }
        }
        if let first = urls.first, let other = urls.first(where: { $0.user != first.user || $0.vhost != first.vhost }) {
            throw AMQPError.invalidURL(
                "every URL in the list must name the same user and vhost (\(first.user) on \(first.vhost), but \(other.redacted))"
            )
        }
        return urls
    }
}

extension Substring {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: Substring {
        var s = drop { $0 == " " }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
