import Hummingbird

/// An error the API answers with: the original's envelope `{"success": false, "error": "…", "code": N}`.
struct APIError: Error, Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { "\(status.code) \(message)" }

    static func badRequest(_ m: String) -> APIError { .init(.badRequest, m) }
    static func notFound(_ m: String) -> APIError { .init(.notFound, m) }
    static func conflict(_ m: String) -> APIError { .init(.conflict, m) }
    static func forbidden(_ m: String) -> APIError { .init(.forbidden, m) }
    static let unauthorized = APIError(.unauthorized, "missing or invalid API key: send Authorization: Bearer <key>")
}
