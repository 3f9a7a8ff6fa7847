import IceShelvesContracts

/// What `--wait` and `follow` print for each event. On a terminal: a line per new step and a
/// progress bar redrawn in place. Piped: one plain line per event and no control characters, so
/// logs stay readable (the complaint about `lxc`).
struct ProgressDisplay: Sendable {
    var terminal: Bool
    var width = 30
    private(set) var fraction = 0.0
    private var barShown = false
    private var lastStep: EventStep?

    init(terminal: Bool, width: Int = 30) {
        self.terminal = terminal
        self.width = width
    }

    /// How far along a step is; the bar takes the maximum seen, so it never moves backwards.
    static func fraction(for step: EventStep, status: DeploymentStatus) -> Double {
        if status.isTerminal { return 1 }
        switch step {
        case .request: return 0.02
        case .submit: return 0.05
        case .render: return 0.15
        case .accept: return 0.18
        case .validate: return 0.2
        case .connect: return 0.25
        case .inspect, .resume: return 0.3
        case .image: return 0.4
        case .profile: return 0.45
        case .placement: return 0.5
        case .create: return 0.6
        case .start: return 0.7
        case .cloudInit: return 0.8
        case .info: return 0.95
        case .done: return 1
        case .cleanup, .cancel, .timeout, .deploy: return 0
        }
    }

    /// The text to write for one event.
    mutating func render(_ e: DeploymentProgress) -> String {
        fraction = max(fraction, Self.fraction(for: e.step, status: e.status))
        let message = TextTable.clean(e.message)
        guard terminal else {
            return "\(e.timestamp) #\(e.seq) \(e.status.rawValue) \(e.step.rawValue) \(e.level.rawValue): \(message)\n"
        }
        var out = barShown ? "\r\u{1B}[2K" : ""
        let mark =
            switch e.level {
            case .error, .critical: "\u{1B}[31m✗\u{1B}[0m"
            case .warning: "\u{1B}[33m!\u{1B}[0m"
            default: "\u{1B}[32m✓\u{1B}[0m"
            }
        let step = (e.step == lastStep ? "" : e.step.rawValue).padding(10)
        out += "\(mark) \(step) \(message)\n"
        lastStep = e.step
        out += bar(e.status)
        barShown = true
        return out
    }

    /// Ends the bar's line.
    func finish() -> String { terminal && barShown ? "\n" : "" }

    private func bar(_ status: DeploymentStatus) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let percent = Int((fraction * 100).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(percent)% \(status.rawValue)"
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
