import Foundation
import IceShelvesBus
import IceShelvesContracts
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Deployments through the gateway's REST API, as a user's script makes them: `POST /api/deploy`
/// with an admin key, against a cluster this registers (`POST /api/clusters`, the LXD unix socket),
/// whose warm pools it sets with `PUT /api/clusters/{id}/warm-pools`. The end of each deployment
/// is read from the bus (every deployment's events, bound before the first request), so that
/// no polling interval is added to the time measured.
final class RESTDeployer: Sendable {
    let api: String
    let key: String
    let clusterId: Int
    private let board = EventBoard()

    /// Registers the cluster and starts reading every deployment's events.
    static func start(api: String, key: String, socket: String, client: AMQPClient) async throws -> RESTDeployer {
        let queue = "bench.events.all.\(UUID().uuidString.prefix(8).lowercased())"
        try await client.declare(.eventListener(queue, binding: "deployment.*.*"))
        let consumer = try await client.consume(queue: queue, prefetch: 500)
        let body = try await send(
            api: api,
            key: key,
            "POST",
            "clusters",
            ["name": "bench", "connection_method": "unix-socket", "socket_path": socket]
        )
        guard let id = body["cluster_id"] as? Int else {
            throw BenchError(message: "POST /api/clusters answered without an id: \(body)")
        }
        let deployer = RESTDeployer(api: api, key: key, clusterId: id)
        Task {
            for await delivery in consumer.deliveries {
                client.ack(delivery)
                guard let envelope = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body), let id = envelope.deploymentId else {
                    continue
                }
                deployer.board.post(id, envelope.payload)
            }
        }
        return deployer
    }

    private init(api: String, key: String, clusterId: Int) {
        self.api = api
        self.key = key
        self.clusterId = clusterId
    }

    /// `POST /api/deploy`; the deployment's id and the stream of its events.
    func deploy(egg: String, name: String, image: String, variables: [String: String]) async throws -> (String, AsyncStream<DeploymentEvent>) {
        let body = try await Self.send(
            api: api,
            key: key,
            "POST",
            "deploy",
            ["egg_id": egg, "cluster_id": clusterId, "instance_name": name, "image": image, "variables": variables]
        )
        guard let id = body["deployment_id"] as? String else { throw BenchError(message: "POST /api/deploy: \(body)") }
        return (id, board.events(of: id))
    }

    /// `PUT /api/clusters/{id}/warm-pools`: one pool of `image` with `size` instances (0: none).
    func setPool(image: String, size: Int) async throws {
        let pools: [[String: Any]] = size == 0 ? [] : [["image": image, "size": size]]
        _ = try await Self.send(api: api, key: key, "PUT", "clusters/\(clusterId)/warm-pools", ["warm_pools": pools])
    }

    private static func send(api: String, key: String, _ method: String, _ path: String, _ json: [String: Any]) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "\(api)/\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw BenchError(message: "\(method) /api/\(path): HTTP \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}

/// Events per deployment id, kept until someone asks for them (they may come before the
/// `POST /api/deploy` answer does).
final class EventBoard: Sendable {
    private struct State {
        var early: [String: [DeploymentEvent]] = [:]
        var waiting: [String: AsyncStream<DeploymentEvent>.Continuation] = [:]
    }
    private let state = Mutex(State())

    func post(_ id: String, _ event: DeploymentEvent) {
        state.withLock { s in
            if let c = s.waiting[id] { c.yield(event) } else { s.early[id, default: []].append(event) }
        }
    }

    func events(of id: String) -> AsyncStream<DeploymentEvent> {
        let (stream, continuation) = AsyncStream<DeploymentEvent>.makeStream()
        state.withLock { s in
            for e in s.early.removeValue(forKey: id) ?? [] { continuation.yield(e) }
            s.waiting[id] = continuation
        }
        return stream
    }
}
