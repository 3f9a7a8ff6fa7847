import Foundation

/// Encodes and decodes envelopes as JSON, the one wire format on the bus.
public enum MessageCodec {
    /// Encodes an envelope to JSON bytes (sorted keys, ISO 8601 dates with fractional seconds).
    public static func encode<M: BusMessage>(_ envelope: Envelope<M>) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        }
        return Array(try encoder.encode(envelope))
    }

    /// Decodes JSON bytes as an envelope of `M`, or throws a ``ContractError``.
    public static func decode<M: BusMessage>(_ type: M.Type, from bytes: [UInt8]) throws -> Envelope<M> {
        do {
            return try decoder().decode(Envelope<M>.self, from: Data(bytes))
        } catch let error as ContractError {
            throw error
        } catch {
            throw ContractError.malformed(describe(error))
        }
    }

    /// Reads only the envelope's header, to route a message by its type.
    public static func header(from bytes: [UInt8]) throws -> EnvelopeHeader {
        do {
            return try decoder().decode(EnvelopeHeader.self, from: Data(bytes))
        } catch {
            throw ContractError.malformed(describe(error))
        }
    }

    private static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = try? Date(
                text,
                strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)
            ) {
                return date
            }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "timestamp is not ISO 8601: \(text.prefix(40))")
        }
        return decoder
    }

    /// A short, single-line reason for a decoding failure (no payload values).
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing field '\(path(ctx.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at '\(path(ctx.codingPath))'"
        case DecodingError.dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "invalid value at '\(path(ctx.codingPath))'"
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
