import ArgumentParser
import Foundation
import IceShelvesContracts

/// Follows one deployment's SSE stream until it ends, reconnecting with `Last-Event-ID` when the
/// stream drops, and turns the outcome into the exit status: 0 completed, 1 failed, 2 cancelled,
/// 3 timed out (the deployment's own timeout or `--timeout`).
struct DeploymentWatcher: Sendable {
    let client: GatewayClient
    let id: String
    let timeout: Double?

    static let exitFailed: Int32 = 1
    static let exitCancelled: Int32 = 2
    static let exitTimeout: Int32 = 3

    /// Prints progress to stdout (a bar on a terminal) and answers the exit code.
    func run(terminal: Bool = isatty(STDOUT_FILENO) == 1) async throws -> Int32 {
        _ = try await client.call("GET", "deployments/\(Self.escape(id))")  // a clear 404/401 before streaming
        let final: DeploymentProgress? = try await withThrowingTaskGroup(of: DeploymentProgress?.self) { group in
            group.addTask { [self] in try await stream(terminal: terminal) }
            if let timeout {
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return nil
                }
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let final else {
            if terminal { write("\n") }
            FileHandle.standardError.write(Data("deployment \(id) did not finish within \(Int(timeout ?? 0)) s\n".utf8))
            return Self.exitTimeout
        }
        let line = "deployment \(id) \(final.status.rawValue)" + (final.status == .completed ? "" : ": \(TextTable.clean(final.message))")
        switch final.status {
        case .completed:
            write(line + "\n")
            return 0
        case .cancelled:
            FileHandle.standardError.write(Data((line + "\n").utf8))
            return Self.exitCancelled
        case .timeout:
            FileHandle.standardError.write(Data((line + "\n").utf8))
            return Self.exitTimeout
        default:
            FileHandle.standardError.write(Data((line + "\n").utf8))
            return Self.exitFailed
        }
    }

    private func stream(terminal: Bool) async throws -> DeploymentProgress? {
        var display = ProgressDisplay(terminal: terminal)
        var last: String?
        var failures = 0
        while !Task.isCancelled {
            do {
                let stream = try EventStream.open(client, "deployments/\(Self.escape(id))/events", lastEventID: last)
                for try await e in stream.events {
                    guard let p = try? JSONDecoder().decode(DeploymentProgress.self, from: Data(e.data.utf8)) else { continue }
                    last = String(p.seq)
                    failures = 0
                    write(display.render(p))
                    if p.status.isTerminal {
                        write(display.finish())
                        return p
                    }
                }
            } catch let error as CLIError where error.description.contains("answered 4") {
                throw error
            } catch {
                failures += 1
                if failures > 10 { throw error }
            }
            try await Task.sleep(for: .seconds(1))
        }
        return nil
    }

    func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))  // unbuffered, unlike print(): callers write through here too
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_."))) ?? s
    }
}
