import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The web UI's way to the REST API: the gateway's own router, called in process with the
/// session's key as `Authorization: Bearer`, so every rule of the API (roles, validation, limits)
/// applies to the browser exactly as to any other client.
final class InProcessAPI: Sendable {
    private let responder = Mutex<(any HTTPResponder<GatewayContext>)?>(nil)

    /// Set once the router is built.
    func use(_ r: some HTTPResponder<GatewayContext>) { responder.withLock { $0 = r } }

    struct Answer: @unchecked Sendable {
        var status: Int
        /// The envelope's `data` (a dictionary or array from JSONSerialization), or the whole body.
        var data: Any
        var error: String? { ((whole as? [String: Any])?["error"] as? String) }
        var whole: Any
        var ok: Bool { (200..<300).contains(status) }
    }

    /// Calls `/iceshelves/api/<path>` and decodes the JSON answer.
    func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        key: String,
        body: Data? = nil,
        contentType: String = "application/json",
        context: GatewayContext
    ) async throws -> Answer {
        let response = try await send(method, path, key: key, body: body, contentType: contentType, headers: [:], context: context)
        let box = Collector.Box()
        try await response.body.write(Collector(box: box))
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: box.buffer))) ?? [:]
        let data = (json as? [String: Any])?["data"] ?? json
        return Answer(status: Int(response.status.code), data: data, whole: json)
    }

    /// The API's response itself (for streams such as SSE).
    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        key: String,
        body: Data? = nil,
        contentType: String = "application/json",
        headers extra: HTTPFields,
        context: GatewayContext
    ) async throws -> Response {
        guard let r = responder.withLock({ $0 }) else { throw HTTPError(.serviceUnavailable) }
        var head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: "/iceshelves/api/\(path)")
        head.headerFields = extra
        head.headerFields[.authorization] = "Bearer \(key)"
        if let body {
            head.headerFields[.contentType] = contentType
            head.headerFields[.contentLength] = String(body.count)
        }
        let request = Request(head: head, body: .init(buffer: ByteBuffer(bytes: body ?? Data())))
        var ctx = context
        ctx.identity = nil
        return try await r.respond(to: request, context: ctx)
    }

    /// Gathers a response body (the writer is consumed, so the bytes go to a box).
    private struct Collector: ResponseBodyWriter {
        final class Box {
            var buffer = ByteBuffer()
        }
        let box: Box
        mutating func write(_ b: ByteBuffer) async throws {
            var b = b
            box.buffer.writeBuffer(&b)
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
