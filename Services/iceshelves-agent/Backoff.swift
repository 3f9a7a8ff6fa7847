/// Exponential backoff with full jitter, for network errors: 1 s, 2 s, 4 s, … up to `cap`,
/// each time a random part of it, so that agents cut off together do not come back together.
struct Backoff: Sendable {
    var base: Duration = .seconds(1)
    var cap: Duration = .seconds(60)
    private(set) var failures = 0

    /// The wait after one more failure.
    mutating func next() -> Duration {
        failures += 1
        let exp = min(Double(cap / base), pow2(failures - 1))
        let ceiling = base * exp
        return ceiling * Double.random(in: 0.5...1.0)
    }

    mutating func reset() { failures = 0 }

    private func pow2(_ n: Int) -> Double { n >= 62 ? Double(Int64.max) : Double(1 << max(0, n)) }
}
