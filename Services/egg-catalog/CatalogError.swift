import IceShelvesBus

/// Why the catalogue refused a request; each maps to an RPC failure code.
struct CatalogError: Error, CustomStringConvertible, Equatable {
    enum Code: String {
        case notFound = "not_found"
        case conflict
        case badRequest = "bad_request"
        case forbidden
    }
    let code: Code
    let message: String

    static func notFound(_ m: String) -> Self { .init(code: .notFound, message: m) }
    static func conflict(_ m: String) -> Self { .init(code: .conflict, message: m) }
    static func badRequest(_ m: String) -> Self { .init(code: .badRequest, message: m) }
    static func forbidden(_ m: String) -> Self { .init(code: .forbidden, message: m) }

    var description: String { message }
    var rpcError: RPCError { RPCError(code: code.rawValue, message: message) }
}
