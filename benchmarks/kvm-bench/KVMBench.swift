import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLibvirt
import Logging

/// The kvm-deployer's figures against plain libvirt, in the same run (benchmarks/kvm.sh starts the stack):
///
/// 1. our overhead, from the job being taken to `virDomainCreate` without the seed upload (the
///    deployer's `overhead_ms`), over `runs` deployments cancelled right after their start;
/// 2. the seed upload through our libvirt stream against `virsh vol-upload` of the same ISO;
/// 3. one deployment through IceShelves (publish → `completed`) against the same disk, seed and
///    domain XML made with `virsh vol-create`, `vol-upload`, `define`, `start`, then waiting for the
///    same serial-console marker by reading the console volume with `virsh vol-download`.
///
///   kvm-bench <amqp-url> <libvirt-uri> <pool> <network> <base-volume> [runs=10] [uploads=5] [deploys=1]
@main
struct KVMBench {
    static func main() async throws {
        let a = CommandLine.arguments
        guard a.count >= 6 else {
            say("usage: kvm-bench <amqp-url> <libvirt-uri> <pool> <network> <base-volume> [runs=10] [uploads=5] [deploys=1]")
            exit(2)
        }
        let settings = LibvirtSettings(uri: a[2], storagePool: a[3], network: a[4], domainType: "qemu")
        let runs = a.count > 6 ? Int(a[6]) ?? 10 : 10
        let uploads = a.count > 7 ? Int(a[7]) ?? 5 : 5
        let deploys = a.count > 8 ? Int(a[8]) ?? 1 : 1
        var logger = Logger(label: "kvm-bench")
        logger.logLevel = .warning
        let client = AMQPClient(configuration: .init(url: try AMQPURL(parsing: a[1]), name: "kvm-bench"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        for service: ServiceName in [.eggCatalog, .cloudInitRenderer, .kvmDeployer] {
            while (try? await client.call(Envelope(Ping()), service: service, expecting: Pong.self, timeout: .milliseconds(500))) == nil {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let libvirt = try await LibvirtConnection.open(settings.uri)
        let bench = Bench(client: client, settings: settings, base: a[5], libvirt: libvirt)
        // No gateway runs here: answer the deployer's cluster.connection calls (jobs carry the cluster id only).
        var router = RPCRouter()
        router.on(ClusterConnectionRequest.self) { _, _ in ClusterConnectionGrant(connection: .libvirt(settings)) }
        let standIn = RPCServer(client: client, queue: ServiceName.apiGateway.rpcQueue, router: router, logger: logger)
        Task { try await standIn.run() }

        // 1. Overhead.
        var overheads: [Double] = []
        for i in 0..<runs {
            overheads.append(try await bench.overhead(name: "bench-oh-\(i)"))
        }
        say(
            String(
                format: "overhead (job taken -> virDomainCreate, upload excluded): p50 %.1f ms, p90 %.1f ms over %d (target p50 <= 200 ms)",
                percentile(overheads, 0.5),
                percentile(overheads, 0.9),
                runs
            )
        )
        result("kvm.overhead_p50", String(format: "%.1f", percentile(overheads, 0.5)), "ms", target: "<= 200")
        result("kvm.overhead_p90", String(format: "%.1f", percentile(overheads, 0.9)), "ms")

        // 2. Seed upload.
        let preview = try await client.call(
            Envelope(RenderPreviewRequest(request: bench.request(name: "bench-preview"), includeSeed: true)),
            service: .cloudInitRenderer,
            expecting: DeploymentRendered.self,
            timeout: .seconds(20)
        ).payload
        let seed = [UInt8](Data(base64Encoded: preview.seedISOBase64 ?? "") ?? Data())
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kvm-bench-seed.iso").path
        FileManager.default.createFile(atPath: file, contents: Data(seed))
        var ours: [Double] = []
        var virsh: [Double] = []
        for i in 0..<uploads {
            let name = "bench-upload-\(i).iso"
            _ = try await libvirt.createVolume(pool: settings.storagePool, xml: VolumePlan.rawXML(name: name, bytes: seed.count))
            var t = ContinuousClock.now
            try await libvirt.upload(seed, toVolume: name, pool: settings.storagePool)
            ours.append(seconds(ContinuousClock.now - t))
            t = ContinuousClock.now
            try bench.virsh(["vol-upload", "--pool", settings.storagePool, name, file])
            virsh.append(seconds(ContinuousClock.now - t))
            try await libvirt.deleteVolume(name, pool: settings.storagePool)
        }
        say(
            String(
                format: "seed upload (%d bytes): ours median %.1f ms, virsh vol-upload median %.1f ms, ratio %.3f (target <= 1.2)",
                seed.count,
                median(ours) * 1000,
                median(virsh) * 1000,
                median(ours) / median(virsh)
            )
        )
        result("kvm.virsh_seed_upload", String(format: "%.1f", median(virsh) * 1000), "ms")
        result(
            "kvm.seed_upload",
            String(format: "%.1f", median(ours) * 1000),
            "ms",
            target: "ratio <= 1.2",
            ratio: String(format: "%.3f", median(ours) / median(virsh))
        )

        // 3. A whole deployment.
        var full: [Double] = []
        var direct: [Double] = []
        for i in 0..<deploys {
            let d = try await bench.direct(name: "bench-direct-\(i)", seed: file, fragment: preview.kvmConfig)
            let o = try await bench.deployment(name: "bench-ours-\(i)")
            direct.append(d)
            full.append(o)
            say(String(format: "deployment %d: iceshelves %.1f s, virsh %.1f s", i + 1, o, d))
        }
        say(
            String(
                format: "deployment to cloud-init done: iceshelves median %.1f s, virsh median %.1f s, ratio %.3f (target <= 1.10)",
                median(full),
                median(direct),
                median(full) / median(direct)
            )
        )
        result("kvm.virsh_deployment", String(format: "%.1f", median(direct)), "s")
        result(
            "kvm.deployment",
            String(format: "%.1f", median(full)),
            "s",
            target: "ratio <= 1.10",
            ratio: String(format: "%.3f", median(full) / median(direct))
        )
        try? FileManager.default.removeItem(atPath: file)
        await client.shutdown()
    }
}

struct Bench: Sendable {
    let client: AMQPClient
    let settings: LibvirtSettings
    let base: String
    let libvirt: LibvirtConnection

    func request(name: String) -> DeploymentRequested {
        DeploymentRequested(
            deploymentId: "bench-\(UUID().uuidString.prefix(12).lowercased())",
            eggName: "debian-hello",
            instanceName: name,
            target: .kvm,
            variables: ["greeting": .string("bench")],
            destination: DeploymentTarget(clusterId: "bench", image: base, configOverrides: ["memory_mb": "768"])
        )
    }

    /// Publishes a deployment and hands each of its events to `body` until it returns `true` or a final status comes.
    func follow(_ request: DeploymentRequested, _ body: (DeploymentEvent) async throws -> Bool) async throws -> DeploymentEvent? {
        let id = request.deploymentId
        let queue = "bench.events.\(id)"
        try await client.declare(.eventListener(queue, binding: BusNames.progressBinding(deploymentId: id)))
        let consumer = try await client.consume(queue: queue, prefetch: 50)
        defer { client.cancel(consumer) }
        try await client.publish(Envelope(request, deploymentId: id), routingKey: BusNames.renderQueue)
        for await delivery in consumer.deliveries {
            client.ack(delivery)
            guard let e = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body).payload else { continue }
            if try await body(e) || e.status.isTerminal { return e }
        }
        return nil
    }

    /// The deployer's `overhead_ms` from the start event; then the deployment is cancelled (and cleaned up).
    func overhead(name: String) async throws -> Double {
        let request = request(name: name)
        var overhead: Double?
        _ = try await follow(request) { e in
            if e.step == .start, let o = e.details["overhead_ms"].flatMap(Double.init) {
                overhead = o
                try await client.publish(
                    Envelope(DeploymentCancel(deploymentId: request.deploymentId, reason: "benchmark"), deploymentId: request.deploymentId),
                    exchange: BusNames.eventsExchange,
                    routingKey: BusNames.cancelKey(deploymentId: request.deploymentId)
                )
            }
            return false
        }
        try await clean(name)
        guard let overhead else { throw BenchError(message: "no start event for \(name)") }
        return overhead
    }

    /// Seconds from publish to `completed`.
    func deployment(name: String) async throws -> Double {
        let t = ContinuousClock.now
        let last = try await follow(request(name: name)) { _ in false }
        let elapsed = seconds(ContinuousClock.now - t)
        try await clean(name)
        guard last?.status == .completed else { throw BenchError(message: "\(name): \(last?.message ?? "no result")") }
        return elapsed
    }

    /// The same VM by hand with virsh: overlay, seed upload, define (the same domain XML), start, wait for the marker.
    func direct(name: String, seed: String, fragment: String?) async throws -> Double {
        let pool = settings.storagePool
        let t = ContinuousClock.now
        let base = try await libvirt.volume(self.base, pool: pool)
        let kernel = try await libvirt.volume(self.base + ".vmlinuz", pool: pool)
        let initrd = try await libvirt.volume(self.base + ".initrd", pool: pool)
        let volumes = VolumePlan(instance: name)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kvm-bench-\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ n: String, _ text: String) throws -> String {
            let p = dir.appendingPathComponent(n).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        try virsh(["vol-create", pool, try file("root.xml", volumes.rootXML(capacity: base?.capacityBytes ?? 0, basePath: base?.path ?? ""))])
        let size = (try FileManager.default.attributesOfItem(atPath: seed)[.size] as? Int) ?? 0
        try virsh(["vol-create-as", pool, volumes.seedName, "\(size)", "--format", "raw"])
        try virsh(["vol-upload", "--pool", pool, volumes.seedName, seed])
        try virsh(["vol-create-as", pool, volumes.consoleName, "0", "--format", "raw"])
        let console = try await libvirt.volume(volumes.consoleName, pool: pool)
        var plan = DomainPlan(
            name: name,
            deploymentId: "direct",
            domainType: settings.domainType,
            memoryMiB: 768,
            pool: pool,
            network: settings.network,
            consoleLogPath: console?.path ?? "",
            kernel: kernel?.path,
            initrd: initrd?.path,
            fragment: fragment
        )
        plan.minVCPUs = 1
        try virsh(["define", try file("domain.xml", try plan.xml())])
        try virsh(["start", name])
        let out = dir.appendingPathComponent("console").path
        while true {
            try virsh(["vol-download", "--pool", pool, volumes.consoleName, out])
            if let text = try? String(contentsOfFile: out, encoding: .utf8), text.contains("ICESHELVES-CLOUD-INIT-DONE") { break }
            try await Task.sleep(for: .seconds(2))
        }
        let elapsed = seconds(ContinuousClock.now - t)
        try await clean(name)
        return elapsed
    }

    func clean(_ name: String) async throws {
        _ = try await VMCleanup.remove(libvirt, name: name, pool: settings.storagePool)
    }

    func virsh(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/virsh")
        p.arguments = ["-q", "-c", settings.uri] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError(message: "virsh \(args.joined(separator: " ")) failed") }
    }
}

enum VMCleanup {
    static func remove(_ c: LibvirtConnection, name: String, pool: String) async throws -> Bool {
        var removed = try await c.removeDomain(name)
        for v in VolumePlan(instance: name).all where try await c.deleteVolume(v, pool: pool) { removed = true }
        return removed
    }
}

struct BenchError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func median(_ xs: [Double]) -> Double { percentile(xs, 0.5) }
func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}

/// One machine-readable line for `benchmarks/run` (`benchmarks/result.sh`):
/// `RESULT name<TAB>value<TAB>unit<TAB>target<TAB>ratio`.
func result(_ name: String, _ value: String, _ unit: String, target: String = "-", ratio: String = "-") {
    say("RESULT \(name)\t\(value)\t\(unit)\t\(target)\t\(ratio)")
}

/// Prints a line at once (stdout to a file is block-buffered).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
