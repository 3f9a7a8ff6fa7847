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
        base = try options.resolvedURL()
        key = try options.resolvedKey()
        timeout = options.timeout
    }

    private struct Envelope<D: Decodable>: Decodable { var data: D }
    private struct Problem: Decodable { var error: String }

    /// Failures a user can act on, with the gateway's own message when it sent one.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `GET <base>/api/<path>`, decoding the `data` of the gateway's envelope.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        guard let url = URL(string: "\(base)/api/\(path)") else { throw Failure(description: "bad URL \(base)/api/\(path)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(description: "cannot reach the gateway at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode(Problem.self, from: data))?.error ?? "HTTP \(status)"
            let hint = status == 401 ? " (give an API key with --api-key, --api-key-file or ICESHELVES_API_KEY)" : ""
            throw Failure(description: "the gateway answered \(status): \(message)\(hint)")
        }
        do {
            return try JSONDecoder().decode(Envelope<T>.self, from: data).data
        } catch {
            throw Failure(description: "the gateway's answer is not what this client understands: \(error)")
        }
    }
}
