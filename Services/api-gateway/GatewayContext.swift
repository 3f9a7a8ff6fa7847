import Hummingbird
import Logging

/// The request context: Hummingbird's core plus the caller's identity once authenticated.
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Identity?
    /// The caller's address, when the connection has one.
    var remoteAddress: String?

    init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The caller, who must hold at least `role`.
    func require(_ role: Role) throws -> Identity {
        guard let identity else { throw APIError.unauthorized }
        guard identity.role >= role else {
            throw APIError.forbidden("this needs the \(role.rawValue) role; your key '\(identity.name)' is \(identity.role.rawValue)")
        }
        return identity
    }
}

/// Every error becomes the original's JSON envelope; nothing unexpected leaks out as a bare 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let logger: Logger
    let allowed: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            return JSONBody.error(e.status, e.message)
        } catch let e as HTTPError where e.status == .notFound && allowed.refuses(request.method.rawValue, on: request.uri.path) {
            let methods = allowed.methods(for: request.uri.path)
            var response = JSONBody.error(
                .methodNotAllowed,
                "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(methods.joined(separator: ", "))"
            )
            response.headers[.allow] = methods.joined(separator: ", ")
            return response
        } catch let e as HTTPError {
            let message =
                e.body ?? (e.status == .notFound ? "no such endpoint: \(request.method.rawValue) \(request.uri.path)" : e.status.reasonPhrase)
            return JSONBody.error(e.status, message)
        } catch {
            logger.error("unexpected error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return JSONBody.error(.internalServerError, "internal error")
        }
    }
}

/// `Authorization: Bearer <key>` on everything under `/iceshelves/api` and on `/iceshelves/metrics`,
/// but not on the agent protocol (which has its own `X-Agent-Key`) or the OpenAPI description.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let keys: KeyStore
    let throttle: AuthThrottle

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let protected =
            path == "/iceshelves/metrics"
            || (path.hasPrefix("/iceshelves/api/") && !path.hasPrefix("/iceshelves/api/agent/") && path != "/iceshelves/api/openapi.json")
        guard protected else {
            return try await next(request, context)
        }
        let address = context.remoteAddress ?? "unknown"
        let presented = request.headers[.authorization].flatMap {
            $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        if throttle.refuses(address, presented: presented) {
            throw APIError(.tooManyRequests, "too many failed authentications from \(address); wait a minute")
        }
        guard let presented, let identity = try await keys.verify(presented) else {
            throttle.failed(address)
            throw APIError.unauthorized
        }
        throttle.succeeded(address, presented: presented)
        var context = context
        context.identity = identity
        return try await next(request, context)
    }
}
