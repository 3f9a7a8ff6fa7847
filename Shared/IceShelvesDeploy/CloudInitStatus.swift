import Foundation
import IceShelvesContracts
import Logging

/// What `cloud-init status --wait --format json` said, read from its JSON rather than only its
/// exit code (0 done, 1 error, 2 degraded on newer versions).
public struct CloudInitStatus: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case done
        /// Finished, with warnings (newer cloud-init's `degraded`, or recoverable errors).
        case degraded
        case error
        /// Not finished, disabled or unknown: anything else is a failure to report.
        case other(String)
    }

    public var outcome: Outcome
    public var errors: [String]
    public var detail: String

    public init(outcome: Outcome, errors: [String], detail: String) {
        self.outcome = outcome
        self.errors = errors
        self.detail = detail
    }

    /// Parses the JSON; `nil` when the output is not JSON (a cloud-init too old for `--format`).
    public static func parse(json: String, exitCode: Int) -> CloudInitStatus? {
        guard let start = json.firstIndex(of: "{"),
            let object = try? JSONSerialization.jsonObject(with: Data(json[start...].utf8)) as? [String: Any]
        else { return nil }
        let status = (object["status"] as? String ?? "").lowercased()
        let extended = (object["extended_status"] as? String ?? "").lowercased()
        let errors = (object["errors"] as? [Any] ?? []).map { "\($0)" }
        let recoverable = object["recoverable_errors"] as? [String: Any] ?? [:]
        let detail = object["detail"] as? String ?? ""
        let outcome: Outcome
        switch status {
        case "done":
            outcome = extended.contains("degraded") || !recoverable.isEmpty || exitCode == 2 ? .degraded : .done
        case "degraded", "degraded done":
            outcome = .degraded
        case "error":
            outcome = .error
        default:
            outcome = .other(status.isEmpty ? "unknown" : status)
        }
        return CloudInitStatus(outcome: outcome, errors: errors, detail: detail)
    }

    /// Reads cloud-init's `result.json` (`{"v1": {"datasource": …, "errors": […]}}`, written when
    /// its last stage is done), as `cloud-init status` does: errors make `error`, recoverable
    /// errors (newer versions) `degraded`, and none `done`. `nil` when it is not that JSON.
    public static func parse(result: [UInt8]) -> CloudInitStatus? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(result)) as? [String: Any],
            let v1 = object["v1"] as? [String: Any]
        else { return nil }
        let errors = (v1["errors"] as? [Any] ?? []).map { "\($0)" }
        let recoverable = v1["recoverable_errors"] as? [String: Any] ?? [:]
        let warnings = recoverable.flatMap { level, list in (list as? [Any] ?? []).map { "\(level): \($0)" } }
        let detail = "DataSource \(v1["datasource"] as? String ?? "unknown")"
        if !errors.isEmpty { return CloudInitStatus(outcome: .error, errors: errors, detail: detail) }
        if !recoverable.isEmpty { return CloudInitStatus(outcome: .degraded, errors: warnings, detail: detail) }
        return CloudInitStatus(outcome: .done, errors: [], detail: detail)
    }
}

extension CloudInitStatus {
    /// Goes on after `done`, reports the warnings of a degraded finish, and throws the failure
    /// that an error or an unfinished state means (the LXD and KVM steps alike).
    public func accept(_ deploymentId: String, reporter: any DeploymentReporter, logger: Logger) async throws {
        switch outcome {
        case .done:
            break
        case .degraded:
            await reporter.report(
                deploymentId,
                .inProgress,
                step: .cloudInit,
                level: .warning,
                "cloud-init finished with warnings: \(errors.joined(separator: "; "))",
                logger: logger
            )
        case .error:
            throw DeployFailure(step: .cloudInit, message: "cloud-init reported errors: \(errors.isEmpty ? detail : errors.joined(separator: "; "))")
        case .other(let s):
            throw DeployFailure(step: .cloudInit, message: "cloud-init ended in state '\(s)': \(detail)")
        }
    }
}
