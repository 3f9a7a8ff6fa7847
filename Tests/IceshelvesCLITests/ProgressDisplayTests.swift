import IceShelvesContracts
import Testing

@testable import IceshelvesCLI

@Suite("Progress display")
struct ProgressDisplayTests {
    func event(_ seq: Int64, _ status: DeploymentStatus, _ step: EventStep, _ message: String = "m") -> DeploymentProgress {
        DeploymentProgress(
            deploymentId: "d",
            seq: seq,
            status: status,
            step: step,
            level: .info,
            message: message,
            details: [:],
            timestamp: "2026-12-01T00:00:00Z"
        )
    }

    var trail: [DeploymentProgress] {
        [
            event(1, .pending, .request), event(2, .rendering, .render), event(3, .inProgress, .cloudInit),
            event(4, .inProgress, .create, "late event"), event(5, .completed, .done),
        ]
    }

    @Test func pipedOutputIsPlainLines() {
        var d = ProgressDisplay(terminal: false)
        let text = trail.map { d.render($0) }.joined() + d.finish()
        #expect(!text.unicodeScalars.contains { $0.value < 32 && $0 != "\n" })
        #expect(text.split(separator: "\n").count == 5)
        #expect(text.hasPrefix("2026-12-01T00:00:00Z #1 pending request INFO: m\n"))
    }

    @Test func theBarNeverMovesBackwards() {
        var d = ProgressDisplay(terminal: true, width: 10)
        var seen: [Double] = []
        for e in trail {
            let text = d.render(e)
            #expect(text.contains("["))
            seen.append(d.fraction)
        }
        #expect(seen == seen.sorted())
        #expect(seen.last == 1)
        #expect(d.finish() == "\n")
    }

    @Test func hostileMessagesCannotDriveTheTerminal() {
        var d = ProgressDisplay(terminal: false)
        let text = d.render(event(1, .failed, .cloudInit, "boom\u{1B}]0;title\u{7}\nnext"))
        #expect(!text.contains("\u{1B}"))
        #expect(text.hasSuffix("boom?]0;title? next\n"))
    }
}
