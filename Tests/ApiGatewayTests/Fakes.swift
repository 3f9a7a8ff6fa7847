import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import IceShelvesBus
import IceShelvesContracts
import Logging
import NIOCore
import Synchronization

@testable import ApiGateway

/// Stand-ins for the bus, so the router can be tested in process (the real pipeline is in SystemTests).
final class FakeBus: EggCatalogClient, PipelineClient, Sendable {
    let submitted = Mutex<[DeploymentRequested]>([])
    let cancelled = Mutex<[String]>([])

    static let egg = EggSummary(
        id: 1,
        name: "debian-hello",
        displayName: "Debian hello",
        description: "d",
        version: "1.0.0",
        contentHash: String(repeating: "a", count: 64),
        category: "custom",
        eggType: .hybrid,
        baseImage: "iceshelves/debian-12",
        tags: ["t"],
        isActive: true,
        isTemplate: true,
        createdOn: "2026-11-28T00:00:00Z"
    )

    /// A `kvm-vm` egg (not listed): only KVM clusters take it.
    static let vmEgg = {
        var e = egg
        e.id = 3
        e.name = "vm-only"
        e.eggType = .kvmVM
        return e
    }()

    func list(_ r: EggListRequest) async throws -> EggPage { EggPage(eggs: [Self.egg], total: 1, page: r.page, perPage: r.perPage, totalPages: 1) }
    /// An uploaded egg whose LXD profile mounts the host's `/`.
    static let hostDisk: EggDetail = {
        var egg = FakeBus.egg
        egg.id = 2
        egg.name = "host-disk"
        egg.contentHash = String(repeating: "b", count: 64)
        return EggDetail(
            egg: egg,
            metadataJSON: "{}",
            files: [
                "cloud-init.yaml": "#cloud-config\n",
                "lxd-profile.yaml": "devices:\n  hostroot:\n    type: disk\n    path: /mnt/host\n    source: /\n",
            ],
            source: "upload"
        )
    }()

    func get(_ r: EggGetRequest) async throws -> EggDetail {
        if r.id == 2 || r.name == "host-disk" { return Self.hostDisk }
        if r.id == 3 || r.name == "vm-only" { return EggDetail(egg: Self.vmEgg, metadataJSON: "{}", files: ["cloud-init.yaml": "#cloud-config\n"]) }
        guard r.id == 1 || r.name == "debian-hello" else { throw APIError.notFound("no egg") }
        return EggDetail(
            egg: Self.egg,
            metadataJSON: #"{"variables":[{"name":"greeting","type":"string","required":true}]}"#,
            files: ["cloud-init.yaml": "#cloud-config\n"]
        )
    }
    func createFromTemplate(_ r: EggCreateFromTemplateRequest) async throws -> EggDetail { try await get(EggGetRequest(id: 1)) }
    func upload(_ r: EggUploadRequest) async throws -> EggDetail { try await get(EggGetRequest(id: 1)) }
    func versions(_ r: EggVersionsRequest) async throws -> EggVersionList { EggVersionList(name: r.name, versions: []) }

    func submit(_ r: DeploymentRequested) async throws { submitted.withLock { $0.append(r) } }
    func preview(_ r: DeploymentRequested) async throws -> DeploymentRendered {
        DeploymentRendered(
            deploymentId: r.deploymentId,
            instanceName: r.instanceName,
            target: r.target,
            eggName: r.eggName,
            eggVersion: "1.0.0",
            eggContentHash: "h",
            baseImage: "iceshelves/debian-12",
            userData: "#cloud-config\n",
            metaData: "instance-id: x\n",
            destination: r.destination
        )
    }
    func cancel(_ c: DeploymentCancel) async throws { cancelled.withLock { $0.append(c.deploymentId) } }
    let republished = Mutex<[OutgoingMessage]>([])
    func republish(_ job: OutgoingMessage) async throws { republished.withLock { $0.append(job) } }
    func testConnection(clusterId: String) async throws -> LXDTestResult {
        LXDTestResult(serverVersion: "5.0.2", apiVersion: "1.0", clustered: false, members: [], cpuCores: 2, memoryBytes: 1 << 30, auth: "trusted")
    }
    /// How many `lxd.cleanup` calls fail next, as for a host that cannot be reached.
    let cleanupFailures = Mutex(0)
    /// The instances `lxd.cleanup` removed.
    let cleanedUp = Mutex<[String]>([])
    func cleanup(_ r: LXDCleanupRequest) async throws -> LXDCleanupResult {
        let fails = cleanupFailures.withLock { n in
            defer { n = max(0, n - 1) }
            return n > 0
        }
        if fails { throw APIError.conflict(BusGatewayClient.unreachable) }
        cleanedUp.withLock { $0.append(r.instanceName) }
        return LXDCleanupResult(removed: true, message: "\(r.instanceName) stopped and deleted")
    }
    func warmPoolStatus(clusterId: String) async throws -> LXDPoolStatus { LXDPoolStatus(pools: []) }
    func testKVM(_ r: KVMTestRequest) async throws -> KVMTestResult {
        KVMTestResult(
            hostname: "hv1",
            hypervisor: "QEMU",
            hypervisorVersion: "7.2.0",
            libvirtVersion: "9.0.0",
            cpuModel: "x86_64",
            cpuCores: 2,
            memoryBytes: 4 << 30,
            pools: [.init(name: "iceshelves", active: true, capacityBytes: 1 << 40, availableBytes: 1 << 39)],
            storagePoolFound: true,
            networkFound: true
        )
    }
    func cleanupKVM(_ r: KVMCleanupRequest) async throws -> KVMCleanupResult { KVMCleanupResult(removed: true, message: "destroyed") }
    func ping(_ service: ServiceName, timeout: Duration) async throws -> Pong {
        guard service != .kvmDeployer else { throw APIError(.serviceUnavailable, "no answer") }
        return Pong(service: service.rawValue, version: "0.1.0", instanceId: "\(service.rawValue)-1", uptimeSeconds: 1)
    }
}

/// A gateway over an in-memory database with one key per role.
struct Harness {
    let gateway: Gateway
    let bus = FakeBus()
    let admin: String, operatorKey: String, viewer: String

    init(maxConcurrent: Int = 10, allowedHosts: String? = nil, agentURL: String? = nil) async throws {
        let db = try GatewayDatabase.inMemory()
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        var settings = Gateway.Settings()
        settings.maxConcurrentPerCluster = maxConcurrent
        settings.maxBodyBytes = 64 * 1024
        settings.hosts = HostPolicy(allowedHosts)
        if let agentURL { settings.agentURL = agentURL }
        gateway = Gateway(
            db: db,
            box: box,
            catalog: bus,
            pipeline: bus,
            settings: settings,
            logger: Logger(label: "gateway-test"),
            busConnected: { true },
            metricsText: { Array("# metrics\n".utf8) }
        )
        admin = try await gateway.keys.create(name: "admin", role: .admin, by: nil).key
        operatorKey = try await gateway.keys.create(name: "op", role: .operator, by: nil).key
        viewer = try await gateway.keys.create(name: "viewer", role: .viewer, by: nil).key
    }

    struct Reply {
        var status: HTTPResponse.Status
        var json: [String: Any]
        var text: String
    }

    func run(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let app = Application(router: gateway.router())
        try await app.test(.router) { client in try await body(Client(client: client)) }
    }

    struct Client: Sendable {
        let client: any TestClientProtocol

        func call(_ method: HTTPRequest.Method, _ uri: String, key: String?, json: String? = nil) async throws -> Reply {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let key { headers[.authorization] = "Bearer \(key)" }
            return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
                let text = String(buffer: response.body)
                let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                return Reply(status: response.status, json: object, text: text)
            }
        }
    }
}
