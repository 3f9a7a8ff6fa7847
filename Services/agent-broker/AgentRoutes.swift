import Foundation
import Hummingbird
import IceShelvesContracts
import Logging
import NIOCore

/// The agents' HTTP listener: the original protocol exactly, and ours (`v1/…`), under both
/// `/iceshelves/api/agent/` and `/api/agent/` (the original install guide set the server URL to
/// the bare host).
struct AgentRoutes: Sendable {
    let service: AgentService

    static let bases = ["iceshelves/api/agent", "api/agent"]
    /// The `X-Agent-Key` header, if sent.
    static func key(_ request: Request) -> String? {
        request.headers.first(where: { $0.name.canonicalName == "x-agent-key" })?.value
    }
    static let maxBody = 1 << 20

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        for base in Self.bases {
            let group = router.group(RouterPath(base))
            group.post("poll/:cluster") { request, context in
                await service.originalPoll(cluster: context.parameters.get("cluster") ?? "", key: Self.key(request))
            }
            group.post("status/:deployment") { request, context in
                let body = try? await Self.body(request)
                return await service.originalStatus(deployment: context.parameters.get("deployment") ?? "", key: Self.key(request), body: body)
            }
            group.post("v1/poll/:cluster") { request, context in
                let wait = request.uri.queryParameters["wait"].flatMap { Int(String($0)) } ?? AgentProtocol.maxWaitSeconds
                return await service.poll(
                    cluster: context.parameters.get("cluster") ?? "",
                    key: Self.key(request),
                    body: try? await Self.body(request),
                    wait: wait
                )
            }
            group.post("v1/lease/:deployment") { request, context in
                await service.renew(
                    deployment: context.parameters.get("deployment") ?? "",
                    key: Self.key(request),
                    body: try? await Self.body(request)
                )
            }
            group.post("v1/report/:deployment") { request, context in
                await service.report(
                    deployment: context.parameters.get("deployment") ?? "",
                    key: Self.key(request),
                    body: try? await Self.body(request)
                )
            }
        }
        router.get("healthz") { _, _ in Self.json(["status": "ok"]) }
        return router
    }

    /// The body, at most ``maxBody`` bytes; `nil` when larger.
    static func body(_ request: Request) async throws -> Data {
        var request = request
        let buffer = try await request.collectBody(upTo: maxBody)
        return Data(buffer.readableBytesView)
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(encoding value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The original's error body: `{"error": "…"}`.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": message], status: status)
    }
}
