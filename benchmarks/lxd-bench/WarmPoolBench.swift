import Foundation

/// Deployments through IceShelves with and without a warm pool against `lxc launch` +
/// `cloud-init status --wait`, alternating, in the same run. Before every measured run the pool is
/// full and no pool instance is being created, so the filling never runs during a measurement
/// (of either side): what is compared is a deployment that finds a ready instance.
struct WarmPoolBench {
    let bench: Bench
    let userData: String
    /// Sets the "bench" cluster's pool size (0: no pool); the deployers pick it up within their fill interval.
    let setPool: @Sendable (Int) async throws -> Void
    static let prefix = "bench-pool-"

    func run(runs: Int, parallel: Int) async throws {
        // Without a pool.
        try await setPool(0)
        try await waitForPool(0)
        var ours: [Double] = []
        var direct: [Double] = []
        for i in 0..<runs {
            direct.append(try await bench.direct(name: "bench-nd-\(i)", userData: userData))
            ours.append(try await bench.ours(name: "bench-no-\(i)").0)
            say(String(format: "no pool, run %d: iceshelves %.2f s, direct %.2f s", i + 1, ours[i], direct[i]))
        }
        say(ratio("one deployment, no pool", ours, direct, target: "<= 1.10"))
        results("lxd.pool.no_pool_one_deployment", ours, direct, target: "ratio <= 1.10")

        // A pool of 1, refilled before each run.
        try await setPool(1)
        ours = []
        direct = []
        var hits = 0
        for i in 0..<runs {
            try await waitForPool(1)
            direct.append(try await bench.direct(name: "bench-pd-\(i)", userData: userData))
            try await waitForPool(1)
            let (t, _, path) = try await bench.oursWithPath(name: "bench-po-\(i)")
            ours.append(t)
            if path == "hit" { hits += 1 }
            say(String(format: "pool of 1, run %d: iceshelves %.2f s (%@), direct %.2f s", i + 1, t, path, direct[i]))
        }
        say(ratio("one deployment, warm pool of 1 (\(hits)/\(runs) hits)", ours, direct, target: "<= 0.5"))
        results("lxd.pool.pool_1_one_deployment", ours, direct, target: "ratio <= 0.5")
        result("lxd.pool.pool_1_hits", "\(hits)", "of \(runs)", target: ">= \(runs)")

        // `parallel` at once with a pool of `parallel`: direct first, then ours, each on a full pool.
        try await setPool(parallel)
        try await waitForPool(parallel)
        // Wall time: from the common start to the last one's end (done, not yet deleted).
        var t = ContinuousClock.now
        let directWall = try await withThrowingTaskGroup(of: Double.self) { group in
            for i in 0..<parallel {
                group.addTask { [t] in
                    let offset = seconds(ContinuousClock.now - t)
                    return offset + (try await bench.direct(name: "bench-ppd-\(i)", userData: userData))
                }
            }
            return try await group.reduce(0) { max($0, $1) }
        }
        say(String(format: "%d at once, direct: %.2f s", parallel, directWall))
        try await waitForPool(parallel)
        t = ContinuousClock.now
        let ends = try await withThrowingTaskGroup(of: (Double, String).self) { group in
            for i in 0..<parallel {
                group.addTask { [t] in
                    let offset = seconds(ContinuousClock.now - t)
                    let (elapsed, _, path) = try await bench.oursWithPath(name: "bench-ppo-\(i)")
                    return (offset + elapsed, path)
                }
            }
            return try await group.reduce(into: [(Double, String)]()) { $0.append($1) }
        }
        let oursWall = ends.map(\.0).max() ?? 0
        let paths = ends.map(\.1)
        say(
            String(
                format: "%d at once, warm pool of %d (%d hits): iceshelves %.2f s, direct %.2f s, ratio %.3f (target <= 0.5)",
                parallel,
                parallel,
                paths.filter { $0 == "hit" }.count,
                oursWall,
                directWall,
                oursWall / directWall
            )
        )
        result("lxd.pool.parallel_\(parallel)", f(oursWall), "s", target: "ratio <= 0.5", ratio: String(format: "%.3f", oursWall / directWall))
        result("lxd.pool.direct_parallel_\(parallel)", f(directWall), "s")
        try await setPool(0)
        try await waitForPool(0)
    }

    /// The RESULT lines of one comparison of medians: ours with its ratio, and the direct twin.
    func results(_ name: String, _ ours: [Double], _ direct: [Double], target: String) {
        let o = LXDBench.median(ours)
        let d = LXDBench.median(direct)
        result(name, f(o), "s", target: target, ratio: String(format: "%.3f", o / d))
        result(name.replacingOccurrences(of: "lxd.pool.", with: "lxd.pool.direct_"), f(d), "s")
    }

    func ratio(_ what: String, _ ours: [Double], _ direct: [Double], target: String) -> String {
        let o = LXDBench.median(ours)
        let d = LXDBench.median(direct)
        return String(format: "%@: iceshelves median %.2f s, direct median %.2f s, ratio %.3f (target %@)", what, o, d, o / d, target)
    }

    /// Waits until exactly `size` pool instances exist, stopped, with no LXD operation running on any.
    func waitForPool(_ size: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(900)
        while ContinuousClock.now < deadline {
            let list = try await output(["lxc", "list", Self.prefix, "-c", "ns", "--format", "csv"])
            let rows = list.split(separator: "\n").filter { $0.hasPrefix(Self.prefix) }
            let stopped = rows.filter { $0.hasSuffix(",STOPPED") }.count
            if rows.count == size && stopped == size {
                let ops = try await output(["lxc", "query", "/1.0/operations?recursion=1"])
                if !ops.contains("/instances/\(Self.prefix)") { return }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw BenchError(message: "the warm pool did not reach \(size) ready instances")
    }

    func output(_ argv: [String]) async throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        return String(decoding: data, as: UTF8.self)
    }
}
