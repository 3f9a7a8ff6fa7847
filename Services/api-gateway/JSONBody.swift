import Foundation
import Hummingbird
import NIOCore

/// JSON in and out, with the original's envelopes: `{"success": true, "data": {…}}`, the data's
/// fields also at the top level (the original's documented responses name them there), and
/// `{"success": false, "error": "…", "code": N}`.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func success(_ data: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        guard let body = successBody(data) else { return raw(["success": true], status: status) }
        return json(body, status: status)
    }

    /// `{"success":true,"data":{…},…the same fields…}`, spliced from one encoding (no re-parse);
    /// `nil` when `data` does not encode to an object. Cacheable: see ``json(_:status:)``.
    static func successBody(_ data: some Encodable) -> ByteBuffer? {
        guard let encoded = try? encoder.encode(data), encoded.first == UInt8(ascii: "{"), encoded.last == UInt8(ascii: "}") else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(encoded.count * 2 + 32)
        out.writeString("{\"success\":true,\"data\":")
        out.writeBytes(encoded)
        if encoded.count > 2 {
            out.writeString(",")
            out.writeBytes(encoded.dropFirst())
        } else {
            out.writeString("}")
        }
        return out
    }

    /// A JSON response with a body made before (a cached one, for example).
    static func json(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        raw(["success": false, "error": message, "code": Int(status.code)], status: status)
    }

    static func raw(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads and decodes a JSON body of at most `limit` bytes; a bad body is a 400, a big one a 413.
    static func read<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("a JSON body is required") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let e as DecodingError {
            throw APIError.badRequest("invalid JSON body: \(describe(e))")
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError.badRequest("invalid JSON body")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String {
            c.isEmpty ? "the body" : c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is required"
        case .typeMismatch(_, let c): return "\(path(c.codingPath)) has the wrong type"
        case .valueNotFound(_, let c): return "\(path(c.codingPath)) must not be null"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "not valid"
        }
    }
}

/// `page` and `per_page` from the query: page ≥ 1, per_page 1–100 (default 20).
struct Pagination: Sendable {
    var page: Int
    var perPage: Int

    init(_ request: Request) throws {
        let q = request.uri.queryParameters
        page = try Self.int(q["page"].map(String.init), name: "page", default: 1, range: 1...1_000_000)
        perPage = try Self.int(q["per_page"].map(String.init), name: "per_page", default: 20, range: 1...100)
    }

    static func int(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError.badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func totalPages(_ total: Int) -> Int { max(1, (total + perPage - 1) / perPage) }
}
