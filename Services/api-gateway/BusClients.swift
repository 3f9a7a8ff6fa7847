import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging

/// The egg catalogue, as the gateway asks it over the bus.
protocol EggCatalogClient: Sendable {
    func list(_ r: EggListRequest) async throws -> EggPage
    func get(_ r: EggGetRequest) async throws -> EggDetail
    func createFromTemplate(_ r: EggCreateFromTemplateRequest) async throws -> EggDetail
    func upload(_ r: EggUploadRequest) async throws -> EggDetail
    func versions(_ r: EggVersionsRequest) async throws -> EggVersionList
}

/// The rest of the pipeline: render previews, deployment requests, cancels, and the deployer's RPCs.
protocol PipelineClient: Sendable {
    /// Publishes to `deploy.render`; returns once the broker confirmed it.
    func submit(_ r: DeploymentRequested) async throws
    func preview(_ r: DeploymentRequested) async throws -> DeploymentRendered
    func cancel(_ c: DeploymentCancel) async throws
    /// Publishes a dead-lettered job back to its queue and waits for the broker's confirm.
    func republish(_ job: OutgoingMessage) async throws
    /// Asks a deployer to test a registered cluster; it fetches the connection from us.
    func testConnection(clusterId: String) async throws -> LXDTestResult
    func cleanup(_ r: LXDCleanupRequest) async throws -> LXDCleanupResult
    /// The cluster's warm pools as an lxd-deployer sees them (``LXDPoolStatusRequest``).
    func warmPoolStatus(clusterId: String) async throws -> LXDPoolStatus
    /// The kvm-deployer's RPCs, for KVM clusters.
    func testKVM(_ r: KVMTestRequest) async throws -> KVMTestResult
    func cleanupKVM(_ r: KVMCleanupRequest) async throws -> KVMCleanupResult
    /// Asks one service whether it is alive.
    func ping(_ service: ServiceName, timeout: Duration) async throws -> Pong
}

/// Both over RabbitMQ. An RPC failure keeps its meaning (400, 404, 409); a service that does
/// not answer is a 503 that names it.
struct BusGatewayClient: EggCatalogClient, PipelineClient {
    let client: AMQPClient
    /// Where a deployer's reason for an unreachable cluster goes (the caller gets ``unreachable``).
    var logger = Logger(label: "api-gateway")
    var timeout: Duration = .seconds(15)

    /// What the API caller learns when a deployer cannot reach or understand a cluster's endpoint,
    /// whatever the reason: a refused connection, a timeout, a failed TLS handshake and a server
    /// that is not LXD or libvirt all read the same, so that registering and testing clusters
    /// cannot map which internal ports are open. The deployer's reason goes to the gateway's log.
    static let unreachable =
        "the cluster cannot be reached: no LXD or libvirt server answered at its endpoint (the gateway's log has the reason)"

    func list(_ r: EggListRequest) async throws -> EggPage { try await call(r, .eggCatalog) }
    func get(_ r: EggGetRequest) async throws -> EggDetail { try await call(r, .eggCatalog) }
    func createFromTemplate(_ r: EggCreateFromTemplateRequest) async throws -> EggDetail { try await call(r, .eggCatalog) }
    /// A large archive goes as chunks of at most ``EggUploadChunk/maxBytes``, so no AMQP message
    /// is huge (RabbitMQ refuses a message above its `max_message_size` by closing the connection
    /// that every other RPC uses).
    func upload(_ r: EggUploadRequest) async throws -> EggDetail {
        let text = r.archiveBase64.utf8
        guard text.count > EggUploadChunk.maxBytes else { return try await call(r, .eggCatalog) }
        let id = UUID().uuidString.lowercased()
        var queue = ServiceName.eggCatalog.rpcQueue
        var start = text.startIndex
        var index = 0
        while start < text.endIndex {
            let end = text.index(start, offsetBy: EggUploadChunk.maxBytes, limitedBy: text.endIndex) ?? text.endIndex
            let chunk = EggUploadChunk(uploadId: id, index: index, dataBase64: String(decoding: text[start..<end], as: UTF8.self))
            let received: EggUploadChunkReceived = try await call(chunk, queue: queue)
            queue = received.queue
            start = end
            index += 1
        }
        return try await call(EggUploadRequest(archiveBase64: "", byAdmin: r.byAdmin, uploadId: id), queue: queue, timeout: .seconds(60))
    }
    func versions(_ r: EggVersionsRequest) async throws -> EggVersionList { try await call(r, .eggCatalog) }

    func submit(_ r: DeploymentRequested) async throws {
        do {
            try await client.publish(Envelope(r, deploymentId: r.deploymentId), routingKey: BusNames.renderQueue)
        } catch {
            throw APIError(.serviceUnavailable, "the message broker did not accept the deployment: \(error)")
        }
    }

    func preview(_ r: DeploymentRequested) async throws -> DeploymentRendered {
        try await call(RenderPreviewRequest(request: r), .cloudInitRenderer)
    }

    func cancel(_ c: DeploymentCancel) async throws {
        do {
            try await client.publish(
                Envelope(c, deploymentId: c.deploymentId),
                exchange: BusNames.eventsExchange,
                routingKey: c.routingKey,
                mandatory: false
            )
        } catch {
            throw APIError(.serviceUnavailable, "the message broker did not accept the cancel: \(error)")
        }
    }

    func republish(_ job: OutgoingMessage) async throws {
        try await client.publish(job)
    }

    func testConnection(clusterId: String) async throws -> LXDTestResult {
        try await call(LXDTestRequest(clusterId: clusterId), .lxdDeployer, timeout: .seconds(45))
    }

    func cleanup(_ r: LXDCleanupRequest) async throws -> LXDCleanupResult {
        try await call(r, .lxdDeployer, timeout: .seconds(120))
    }

    func testKVM(_ r: KVMTestRequest) async throws -> KVMTestResult {
        try await call(r, .kvmDeployer, timeout: .seconds(45))
    }

    func cleanupKVM(_ r: KVMCleanupRequest) async throws -> KVMCleanupResult {
        try await call(r, .kvmDeployer, timeout: .seconds(120))
    }

    func warmPoolStatus(clusterId: String) async throws -> LXDPoolStatus {
        try await call(LXDPoolStatusRequest(clusterId: clusterId), .lxdDeployer, timeout: .seconds(3))
    }

    func ping(_ service: ServiceName, timeout: Duration) async throws -> Pong {
        try await client.call(Envelope(Ping()), service: service, expecting: Pong.self, timeout: timeout).payload
    }

    private func call<Request: BusMessage, Reply: BusMessage>(_ r: Request, _ service: ServiceName, timeout: Duration? = nil) async throws -> Reply {
        try await call(r, queue: service.rpcQueue, timeout: timeout)
    }

    private func call<Request: BusMessage, Reply: BusMessage>(_ r: Request, queue: String, timeout: Duration? = nil) async throws -> Reply {
        let service = queue.hasPrefix("rpc.") ? String(queue.dropFirst(4)) : ServiceName.eggCatalog.rawValue
        do {
            return try await client.call(Envelope(r), queue: queue, expecting: Reply.self, timeout: timeout ?? self.timeout).payload
        } catch let e as RPCError {
            switch e.code {
            case "bad_request": throw APIError.badRequest(e.message)
            case "not_found": throw APIError.notFound(e.message)
            case "conflict": throw APIError.conflict(e.message)
            case "forbidden": throw APIError.forbidden(e.message)
            case "unavailable":
                logger.warning("a cluster cannot be reached", metadata: ["service": "\(service)", "reason": "\(e.message.prefix(500))"])
                throw APIError(.conflict, Self.unreachable)
            default: throw APIError(.serviceUnavailable, "\(service): \(e.message)")
            }
        } catch {
            throw APIError(.serviceUnavailable, "the \(service) service did not answer (\(error))")
        }
    }
}
