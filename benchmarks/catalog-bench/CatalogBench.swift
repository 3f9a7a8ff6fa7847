import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging

/// Catalogue list and search latency over the bus, against a running `egg-catalog`.
///
/// usage: catalog-bench [amqp-url] [calls]
/// Alternates `egg.list` (first page of 20) and `egg.list` with a free-text search, one call at
/// a time, and prints p50 and p99 for each, and the same as `RESULT` lines for `benchmarks/run`
/// (`benchmarks/result.sh`). `benchmarks/catalog.sh` runs it with 1,000 eggs.
@main
struct CatalogBench {
    static func main() async throws {
        let args = CommandLine.arguments
        let url = try AMQPURL(parsing: args.count > 1 ? args[1] : "amqp://guest:guest@127.0.0.1:5672/")
        let calls = args.count > 2 ? Int(args[2]) ?? 2000 : 2000
        var logger = Logger(label: "catalog-bench")
        logger.logLevel = .warning
        let client = AMQPClient(configuration: .init(url: url, name: "catalog-bench"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        let clock = ContinuousClock()
        var list: [Double] = []
        var search: [Double] = []
        for _ in 0..<50 { _ = try await client.call(Envelope(EggListRequest()), service: .eggCatalog, expecting: EggPage.self) }
        var total = 0
        for i in 0..<calls {
            let start = clock.now
            if i % 2 == 0 {
                let page = try await client.call(Envelope(EggListRequest(page: 1 + i % 50)), service: .eggCatalog, expecting: EggPage.self)
                total = page.payload.total
                list.append((clock.now - start) / .milliseconds(1))
            } else {
                _ = try await client.call(Envelope(EggListRequest(search: "bench-\(i % 997)")), service: .eggCatalog, expecting: EggPage.self)
                search.append((clock.now - start) / .milliseconds(1))
            }
        }
        func pct(_ xs: [Double], _ p: Double) -> String { String(format: "%.2f", xs.sorted()[min(xs.count - 1, Int(Double(xs.count) * p))]) }
        print("catalogue of \(total) eggs")
        print("egg.list (page of 20): \(list.count) calls p50 \(pct(list, 0.5)) ms p99 \(pct(list, 0.99)) ms")
        print("egg.list search:       \(search.count) calls p50 \(pct(search, 0.5)) ms p99 \(pct(search, 0.99)) ms")
        result("catalog.list_p50", pct(list, 0.5), "ms")
        result("catalog.list_p99", pct(list, 0.99), "ms", target: "<= 10")
        result("catalog.search_p50", pct(search, 0.5), "ms")
        result("catalog.search_p99", pct(search, 0.99), "ms", target: "<= 10")
        await client.shutdown()
    }
}

/// One machine-readable line for `benchmarks/run`: `RESULT name<TAB>value<TAB>unit<TAB>target<TAB>ratio`.
func result(_ name: String, _ value: String, _ unit: String, target: String = "-", ratio: String = "-") {
    print("RESULT \(name)\t\(value)\t\(unit)\t\(target)\t\(ratio)")
}
