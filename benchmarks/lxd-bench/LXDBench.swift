import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Synchronization

/// Deploys the offline egg through IceShelves (bus, renderer, deployer, cloud-init wait) and
/// the same image and user-data directly with `lxc launch` + `cloud-init status --wait`, in
/// the same run, and prints medians and ratios. Run by benchmarks/lxd.sh, which starts the stack.
///
///   lxd-bench <amqp-url> <image> <socket> [runs] [parallel] [pool]
///
/// With `pool`, it compares with warm pools instead (see ``WarmPoolBench``): one at a time
/// without a pool, one at a time with a pool of 1, and `parallel` at once with a pool of `parallel`.
@main
struct LXDBench {
    static func main() async throws {
        // Lines go out through `say`, unbuffered, so progress shows as it happens, also into a file.
        let args = CommandLine.arguments
        guard args.count >= 4 else {
            say("usage: lxd-bench <amqp-url> <image> <lxd-socket> [runs=5] [parallel=10]")
            exit(2)
        }
        let url = try AMQPURL(parsing: args[1])
        let image = args[2]
        let socket = args[3]
        let runs = args.count > 4 ? Int(args[4]) ?? 5 : 5
        let parallel = args.count > 5 ? Int(args[5]) ?? 10 : 10
        var logger = Logger(label: "lxd-bench")
        logger.logLevel = .warning
        let client = AMQPClient(configuration: .init(url: url, name: "lxd-bench"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        // With LXD_BENCH_API (the gateway's API base URL) and LXD_BENCH_KEY (an admin key),
        // deployments go through REST and the real gateway answers the deployers.
        let env = ProcessInfo.processInfo.environment
        let rest: RESTDeployer?
        if let api = env["LXD_BENCH_API"], let key = env["LXD_BENCH_KEY"] {
            rest = try await RESTDeployer.start(api: api, key: key, socket: socket, client: client)
        } else {
            rest = nil
        }
        let bench = Bench(client: client, image: image, connection: .unixSocket(socket), rest: rest)
        // Without a gateway: answer the deployer's cluster.connection calls (jobs carry the cluster id only).
        var router = RPCRouter()
        router.on(ClusterConnectionRequest.self) { _, _ in ClusterConnectionGrant(connection: .unixSocket(socket)) }
        // The warm pool of the "bench" cluster, as the gateway would answer it.
        let poolSize = Mutex(0)
        router.on(WarmPoolsRequest.self) { _, _ in
            let size = poolSize.withLock { $0 }
            return WarmPoolsConfig(clusters: size == 0 ? [] : [.init(clusterId: "bench", pools: [WarmPoolSpec(image: image, size: size)])])
        }
        if rest == nil {
            let standIn = RPCServer(client: client, queue: ServiceName.apiGateway.rpcQueue, router: router, logger: logger)
            Task { try await standIn.run() }
        }

        // The services answer ping before anything is measured.
        for service in [ServiceName.eggCatalog, .cloudInitRenderer, .lxdDeployer] {
            let deadline = ContinuousClock.now + .seconds(60)
            while (try? await client.call(Envelope(Ping()), service: service, expecting: Pong.self, timeout: .milliseconds(500))) == nil {
                guard ContinuousClock.now < deadline else { throw BenchError(message: "\(service.rawValue) did not answer ping") }
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        // The exact user-data IceShelves renders for the egg, for the direct baseline.
        let preview = try await client.call(
            Envelope(RenderPreviewRequest(request: bench.request(name: "preview"))),
            service: .cloudInitRenderer,
            expecting: DeploymentRendered.self,
            timeout: .seconds(10)
        ).payload
        let userData = preview.userData

        // Warm-up: the first launch after an import unpacks the image.
        _ = try await bench.direct(name: "bench-warm", userData: userData)
        if args.count > 6 && args[6] == "pool" {
            let setPool: @Sendable (Int) async throws -> Void = { n in
                if let rest { try await rest.setPool(image: image, size: n) } else { poolSize.withLock { $0 = n } }
            }
            say(rest == nil ? "deployments are published on the bus (no gateway)" : "deployments go through REST (POST /api/deploy)")
            try await WarmPoolBench(bench: bench, userData: userData, setPool: setPool).run(
                runs: runs,
                parallel: parallel
            )
            await client.shutdown()
            return
        }

        var ours: [Double] = []
        var direct: [Double] = []
        var overheads: [Double] = []
        for i in 0..<runs {
            let d = try await bench.direct(name: "bench-direct-\(i)", userData: userData)
            let (o, overhead) = try await bench.ours(name: "bench-ours-\(i)")
            direct.append(d)
            ours.append(o)
            overheads.append(overhead)
            say(String(format: "run %d: iceshelves %.2f s, direct %.2f s, overhead %.1f ms", i + 1, o, d, overhead))
        }
        let mOurs = median(ours)
        let mDirect = median(direct)
        result("lxd.one_deployment", f(mOurs), "s", target: "ratio <= 1.10", ratio: String(format: "%.3f", mOurs / mDirect))
        result("lxd.direct_one_deployment", f(mDirect), "s")
        say(
            String(
                format: "one deployment: iceshelves median %.2f s, direct median %.2f s, ratio %.3f (target <= 1.10)",
                mOurs,
                mDirect,
                mOurs / mDirect
            )
        )

        // Parallel rounds in the order direct, ours, ours, direct, so neither side always runs
        // second (and pays for the other's deletions still being written back to disk).
        var directParallel = 0.0
        var oursParallel = 0.0
        var parallelOverheads: [Double] = []
        for (round, kind) in ["direct", "ours", "ours", "direct"].enumerated() {
            let t = ContinuousClock.now
            if kind == "direct" {
                try await withThrowingTaskGroup(of: Double.self) { group in
                    for i in 0..<parallel { group.addTask { try await bench.direct(name: "bench-pdirect-\(round)-\(i)", userData: userData) } }
                    for try await _ in group {}
                }
                directParallel += seconds(ContinuousClock.now - t)
            } else {
                try await withThrowingTaskGroup(of: (Double, Double).self) { group in
                    for i in 0..<parallel { group.addTask { try await bench.ours(name: "bench-pours-\(round)-\(i)") } }
                    for try await (_, overhead) in group { parallelOverheads.append(overhead) }
                }
                oursParallel += seconds(ContinuousClock.now - t)
            }
            say(String(format: "round %d (%@): %.2f s", round + 1, kind, seconds(ContinuousClock.now - t)))
        }
        say(
            String(
                format: "%d at once, two rounds each: iceshelves %.2f s, direct %.2f s, ratio %.3f (target <= 1.15)",
                parallel,
                oursParallel,
                directParallel,
                oursParallel / directParallel
            )
        )
        result(
            "lxd.parallel_\(parallel)",
            f(oursParallel),
            "s",
            target: "ratio <= 1.15",
            ratio: String(format: "%.3f", oursParallel / directParallel)
        )
        result("lxd.direct_parallel_\(parallel)", f(directParallel), "s")
        result("lxd.overhead_p50", f(median(overheads)), "ms", target: "<= 30")
        result("lxd.overhead_max", f(overheads.max() ?? 0), "ms")
        result("lxd.overhead_parallel_p50", f(median(parallelOverheads)), "ms")
        say(
            String(
                format: "overhead job taken -> create sent, one at a time: p50 %.1f ms, max %.1f ms over %d jobs (target p50 <= 30 ms)",
                median(overheads),
                overheads.max() ?? 0,
                overheads.count
            )
        )
        say(
            String(
                format: "overhead job taken -> create sent, %d at once: p50 %.1f ms, max %.1f ms",
                parallel,
                median(parallelOverheads),
                parallelOverheads.max() ?? 0
            )
        )
        await client.shutdown()
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

struct Bench: Sendable {
    /// `LXD_BENCH_TRACE=1` prints every event of our deployments with its time since the publish.
    let trace = ProcessInfo.processInfo.environment["LXD_BENCH_TRACE"] == "1"
    let client: AMQPClient
    let image: String
    let connection: ClusterConnection
    /// Deployments through the gateway's REST API instead of the bus, when set.
    let rest: RESTDeployer?
    var clusterId: String { rest.map { String($0.clusterId) } ?? "bench" }

    func request(name: String) -> DeploymentRequested {
        DeploymentRequested(
            deploymentId: "bench-\(UUID().uuidString.prefix(12).lowercased())",
            eggName: "debian-hello",
            instanceName: name,
            target: .lxd,
            variables: ["greeting": .string("bench")],
            destination: DeploymentTarget(clusterId: "bench", image: image)
        )
    }

    /// One deployment through IceShelves: seconds from publish to the `completed` event, and the
    /// deployer's own overhead (job taken to create sent) from its create event.
    func ours(name: String) async throws -> (Double, Double) {
        let (elapsed, overhead, _) = try await oursWithPath(name: name)
        return (elapsed, overhead)
    }

    /// The same, and the warm-pool path its log names (`hit`, `miss`, or empty without a pool).
    func oursWithPath(name: String) async throws -> (Double, Double, String) {
        let start = ContinuousClock.now
        let (id, events) = try await submit(name: name)
        var overhead = 0.0
        var path = ""
        var final: DeploymentStatus?
        for await e in events {
            if e.step == .create, let o = e.details["overhead_ms"].flatMap(Double.init) { overhead = o }
            if let p = e.details["warm_pool"] { path = p }
            if trace { say(String(format: "  %@ +%.3f s %@: %@", name, seconds(ContinuousClock.now - start), e.step.rawValue, e.message)) }
            if e.status.isTerminal {
                final = e.status
                if e.status != .completed { say("deployment \(name) \(e.status.rawValue): \(e.message)") }
                break
            }
        }
        let elapsed = seconds(ContinuousClock.now - start)
        _ = try? await client.call(
            Envelope(LXDCleanupRequest(clusterId: clusterId, instanceName: name, deploymentId: id)),
            service: .lxdDeployer,
            expecting: LXDCleanupResult.self,
            timeout: .seconds(60)
        )
        guard final == .completed else { throw BenchError(message: "deployment \(name) ended \(final?.rawValue ?? "without a result")") }
        return (elapsed, overhead, path)
    }

    /// Starts a deployment (a REST request, or the request published on the bus): its id and events.
    func submit(name: String) async throws -> (String, AsyncStream<DeploymentEvent>) {
        if let rest {
            return try await rest.deploy(egg: "debian-hello", name: name, image: image, variables: ["greeting": "bench"])
        }
        let request = request(name: name)
        let id = request.deploymentId
        let queue = "bench.events.\(id)"
        try await client.declare(.eventListener(queue, binding: BusNames.progressBinding(deploymentId: id)))
        let consumer = try await client.consume(queue: queue, prefetch: 50)
        try await client.publish(Envelope(request, deploymentId: id), routingKey: BusNames.renderQueue)
        let client = client
        let events = AsyncStream<DeploymentEvent> { continuation in
            let reader = Task {
                for await delivery in consumer.deliveries {
                    client.ack(delivery)
                    if let e = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body).payload { continuation.yield(e) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                reader.cancel()
                client.cancel(consumer)
            }
        }
        return (id, events)
    }

    /// The same by hand: `lxc launch` with the user-data, then `cloud-init status --wait`.
    func direct(name: String, userData: String) async throws -> Double {
        let start = ContinuousClock.now
        try await run(["lxc", "launch", image, name, "-c", "cloud-init.user-data=\(userData)"])
        try await run(["lxc", "exec", name, "--", "cloud-init", "status", "--wait"], retries: 20)
        let elapsed = seconds(ContinuousClock.now - start)
        try await run(["lxc", "delete", "-f", name])
        return elapsed
    }

    func run(_ argv: [String], retries: Int = 0) async throws {
        for attempt in 0...retries {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = argv
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            while p.isRunning { try await Task.sleep(for: .milliseconds(5)) }
            if p.terminationStatus == 0 { return }
            if attempt < retries { try await Task.sleep(for: .milliseconds(100)) }
        }
        throw BenchError(message: "\(argv.joined(separator: " ")) failed")
    }
}

struct BenchError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A machine-readable line for benchmarks/run: `RESULT name, value, unit, target, ratio`, tab-separated.
func result(_ name: String, _ value: String, _ unit: String, target: String = "-", ratio: String = "-") {
    say("RESULT \(name)\t\(value)\t\(unit)\t\(target)\t\(ratio)")
}

func f(_ x: Double) -> String { String(format: "%.2f", x) }

/// Prints a line at once (stdout to a file is block-buffered).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
