import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The CLI's only way out: REST calls to the gateway (no bus, no server code).
struct GatewayClient: Sendable {
    let base: String
    let key: String?
    let timeout: Double

    init(_ options: GatewayOptions) throws {
        let config = try ConfigFile.load()
        base = try options.resolvedURL(config: config)
        key = try options.resolvedKey(config: config)
        timeout = options.requestTimeout
    }

    init(base: String, key: String?, timeout: Double) {
        self.base = base
        self.key = key
        self.timeout = timeout
    }

    private struct Envelope<D: Decodable>: Decodable { var data: D }

    /// Failures a user can act on, with the gateway's own message when it sent one.
    typealias Failure = CLIError

    /// `GET <base>/api/<path>`, decoding the `data` of the gateway's envelope.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let data = try await send("GET", path)
        do {
            return try JSONDecoder().decode(Envelope<T>.self, from: data).data
        } catch {
            throw CLIError("the gateway's answer is not what this client understands: \(error)")
        }
    }

    /// A call answering the envelope's `data` as a JSON value.
    func call(
        _ method: String,
        _ path: String,
        query: [String: String?] = [:],
        json body: JSONValue? = nil,
        raw: Data? = nil,
        contentType: String? = nil
    ) async throws -> JSONValue {
        let bytes = try await send(
            method,
            path,
            query: query,
            body: body.map { try JSONEncoder().encode($0) } ?? raw,
            contentType: body != nil ? "application/json" : contentType
        )
        guard let value = try? JSONValue.parse(bytes) else { throw CLIError("the gateway's answer is not JSON") }
        return value["data"] ?? value
    }

    func url(_ path: String, query: [String: String?] = [:]) throws -> URL {
        guard var parts = URLComponents(string: "\(base)/api/\(path)") else { throw CLIError("bad URL \(base)/api/\(path)") }
        let items = query.compactMap { k, v in v.map { URLQueryItem(name: k, value: $0) } }.sorted { $0.name < $1.name }
        if !items.isEmpty { parts.queryItems = items }
        guard let url = parts.url else { throw CLIError("bad URL \(base)/api/\(path)") }
        return url
    }

    func request(_ method: String, _ url: URL, timeout: Double? = nil) -> URLRequest {
        var request = URLRequest(url: url, timeoutInterval: timeout ?? self.timeout)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        return request
    }

    /// Sends a request and answers the body of a 2xx; anything else becomes one readable line.
    func send(
        _ method: String,
        _ path: String,
        query: [String: String?] = [:],
        body: Data? = nil,
        contentType: String? = nil
    ) async throws
        -> Data
    {
        var request = request(method, try url(path, query: query))
        if let body {
            request.httpBody = body
            request.setValue(contentType ?? "application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach the gateway at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw Self.failure(status: status, body: data) }
        return data
    }

    /// The gateway's `error` message (one line), with a hint for a missing key.
    static func failure(status: Int, body: Data) -> CLIError {
        let message = (try? JSONValue.parse(body))?["error"]?.string.map(TextTable.clean) ?? "HTTP \(status)"
        let hint = status == 401 ? " (log in with `iceshelves login`, or give --api-key, --api-key-file or ICESHELVES_API_KEY)" : ""
        return CLIError("the gateway answered \(status): \(message)\(hint)")
    }
}
