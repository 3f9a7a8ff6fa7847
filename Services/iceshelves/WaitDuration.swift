import ArgumentParser

/// `--timeout 90s`, `5m`, `1h30m` or plain seconds, as `kubectl wait --timeout` takes it.
struct WaitDuration: ExpressibleByArgument, Sendable, Equatable {
    var seconds: Double

    init(seconds: Double) { self.seconds = seconds }

    init?(argument: String) {
        var total = 0.0
        var number = ""
        var sawUnit = false
        for ch in argument {
            if ch.isNumber || ch == "." {
                number.append(ch)
                continue
            }
            guard let n = Double(number) else { return nil }
            switch ch {
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        if !number.isEmpty {
            guard !sawUnit, let n = Double(number) else { return nil }
            total += n
        }
        guard total > 0, total <= 86_400 else { return nil }
        seconds = total
    }

    static var defaultCompletionKind: CompletionKind { .list(["30s", "5m", "10m", "1h"]) }
}
