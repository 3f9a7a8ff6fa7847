import Foundation
import IceShelvesLXD

/// Waits for cloud-init's end in an LXD instance.
///
/// The first sign of the end is `/run/cloud-init/result.json`, which cloud-init writes when its
/// last stage is done, in a folder that exists only since this boot. It is read through LXD's
/// file API, every 100 ms for the first 10 s and every 500 ms after that (about 2 ms of LXD's
/// CPU a read). That costs the instance nothing. `cloud-init status --wait` in the instance
/// would start a Python process, taking CPU from the boot it waits for (ten such processes beside
/// ten boots on two cores), and it would notice the end up to 250 ms later.
///
/// That command is still the fallback. It runs when, 10 s after the start,
/// `/run/cloud-init/status.json` is missing, so cloud-init is not running in this boot: an image
/// without cloud-init, with cloud-init disabled, or with one that keeps its files elsewhere. The
/// command then says what state cloud-init is in. Whichever answers first wins.
struct LXDCloudInitWait: Sendable {
    static let resultFile = "/run/cloud-init/result.json"
    /// Where cloud-init keeps the file that `/run/cloud-init/result.json` links to.
    static let resultTarget = "/var/lib/cloud/data/result.json"

    let lxd: LXDClient
    let name: String
    let timeout: Duration
    static let statusFile = "/run/cloud-init/status.json"
    var fastPolls: Duration = .seconds(10)
    var fallbackAfter: Duration = .seconds(10)

    func wait() async throws -> CloudInitStatus {
        let deadline = ContinuousClock.now + timeout
        return try await withThrowingTaskGroup(of: CloudInitStatus?.self) { group in
            group.addTask { try await pollResultFile(until: deadline) }
            group.addTask {
                try await Task.sleep(for: fallbackAfter)
                do {
                    // cloud-init runs in this boot: its result file will come (or the deadline will).
                    if try await lxd.fileExists(name, path: Self.statusFile) { return nil }
                    return try await runStatusCommand(until: deadline)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    // The fallback never fails a deployment on its own (an LXD that answers
                    // slowly under load): the result file or the deadline decides.
                    return nil
                }
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let status = next { return status }
            }
            throw DeployFailure(step: .cloudInit, message: "cloud-init did not finish within \(timeout)")
        }
    }

    /// The status in the result file, once there is one; `nil` at the deadline. Throws when the
    /// instance is gone (someone deleted it meanwhile): no result will ever come.
    private func pollResultFile(until deadline: ContinuousClock.Instant) async throws -> CloudInitStatus? {
        let slower = ContinuousClock.now + fastPolls
        var nextLook = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let status = try? await readResult() { return status }
            if ContinuousClock.now >= nextLook {
                nextLook = ContinuousClock.now + .seconds(5)
                if await isGone() {
                    throw DeployFailure(step: .cloudInit, message: "\(name) was deleted while waiting for cloud-init", mayCleanUp: false)
                }
            }
            try await Task.sleep(for: ContinuousClock.now < slower ? .milliseconds(100) : .milliseconds(500))
        }
        return nil
    }

    /// `true` only when LXD says there is no such instance (not when it cannot be asked).
    private func isGone() async -> Bool {
        do {
            return try await lxd.instance(name) == nil
        } catch {
            return false
        }
    }

    private func readResult() async throws -> CloudInitStatus? {
        var bytes = try await lxd.file(name, path: Self.resultFile)
        if bytes.first != UInt8(ascii: "{") {
            // LXD answers a symlink with its target; cloud-init links to its data folder.
            let target = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            bytes = try await lxd.file(name, path: target.hasPrefix("/") ? target : Self.resultTarget)
        }
        return CloudInitStatus.parse(result: bytes)
    }

    /// `cloud-init status --wait --format json` in the instance, retried while the instance is
    /// still booting far enough to run it.
    private func runStatusCommand(until deadline: ContinuousClock.Instant) async throws -> CloudInitStatus {
        var lastProblem = ""
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            let left = deadline - ContinuousClock.now
            do {
                let r = try await lxd.exec(name, ["cloud-init", "status", "--wait", "--format", "json"], timeout: left)
                if let status = CloudInitStatus.parse(json: r.stdout, exitCode: r.exitCode) { return status }
                if r.exitCode == 127 || r.stdout.isEmpty && r.stderr.isEmpty {
                    lastProblem = "cloud-init is not runnable yet (exit \(r.exitCode))"
                } else if r.stderr.contains("--format") || r.stderr.contains("unrecognized") {
                    // An old cloud-init without JSON output: the exit code says it.
                    let plain = try await lxd.exec(name, ["cloud-init", "status", "--wait", "--long"], timeout: left)
                    return CloudInitStatus(
                        outcome: plain.exitCode == 0 ? .done : .error,
                        errors: plain.exitCode == 0 ? [] : [plain.stdout + plain.stderr],
                        detail: plain.stdout
                    )
                } else {
                    return CloudInitStatus(
                        outcome: .other("unreadable"),
                        errors: [],
                        detail: "exit \(r.exitCode): \(r.stdout) \(r.stderr)".trimmingCharacters(in: .whitespacesAndNewlines)
                    )
                }
            } catch let e as LXDError where e.kind == .api {
                lastProblem = e.message  // the container's init is not ready to run commands yet
            } catch let e as LXDError {
                throw DeployFailure(step: .cloudInit, message: e.message)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw DeployFailure(
            step: .cloudInit,
            message: "cloud-init did not finish within \(timeout)\(lastProblem.isEmpty ? "" : " (\(lastProblem))")"
        )
    }
}
