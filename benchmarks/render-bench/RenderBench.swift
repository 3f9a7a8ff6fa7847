import Foundation
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesRendering

/// Render-plus-validate time per built-in egg, and NoCloud seed time.
///
/// usage: render-bench [eggs-folder] [iterations]
/// Besides the lines for people it prints `RESULT` lines for `benchmarks/run` (`benchmarks/result.sh`).
@main
struct RenderBench {
    static func main() async throws {
        let args = CommandLine.arguments
        let folder = args.count > 1 ? args[1] : "eggs"
        let iterations = args.count > 2 ? Int(args[2]) ?? 500 : 500
        let clock = ContinuousClock()
        func pct(_ xs: [Double], _ p: Double) -> String { String(format: "%.3f", xs.sorted()[min(xs.count - 1, Int(Double(xs.count) * p))]) }
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchmarkKeyBenchmarkKey bench@example"
        var last: Renderer.Output?
        for name in ["ubuntu-base", "ubuntu-docker", "ubuntu-nginx", "ubuntu-k8s-node", "debian-hello"] {
            let egg = try EggFolderLoader().load(folder: folder + "/" + name, name: name)
            var samples: [Double] = []
            for i in 0..<iterations {
                let request = DeploymentRequested(
                    deploymentId: "dep-\(i)",
                    eggName: name,
                    instanceName: "bench-\(i)",
                    target: .lxd,
                    variables: ["ssh_authorized_keys": .list([key])],
                    overrides: .init(hostname: "bench-\(i)", extraPackages: ["jq"])
                )
                let start = clock.now
                last = try Renderer().render(egg: egg, request: request)
                samples.append((clock.now - start) / .milliseconds(1))
            }
            print("render+validate \(name): p50 \(pct(samples, 0.5)) ms p99 \(pct(samples, 0.99)) ms (\(iterations) runs)")
            result("render.\(name)_p50", pct(samples, 0.5), "ms", target: "<= 2")
            result("render.\(name)_p99", pct(samples, 0.99), "ms")
        }
        var seeds: [Double] = []
        for _ in 0..<50 {
            let start = clock.now
            _ = try await GenisoimageSeed().makeSeed(userData: last!.userData, metaData: last!.metaData, networkConfig: nil)
            seeds.append((clock.now - start) / .milliseconds(1))
        }
        print("seed ISO (genisoimage): p50 \(pct(seeds, 0.5)) ms p99 \(pct(seeds, 0.99)) ms (50 runs)")
        result("render.seed_iso_p50", pct(seeds, 0.5), "ms", target: "<= 20")
        result("render.seed_iso_p99", pct(seeds, 0.99), "ms")
    }
}

/// One machine-readable line for `benchmarks/run`: `RESULT name<TAB>value<TAB>unit<TAB>target<TAB>ratio`.
func result(_ name: String, _ value: String, _ unit: String, target: String = "-", ratio: String = "-") {
    print("RESULT \(name)\t\(value)\t\(unit)\t\(target)\t\(ratio)")
}
