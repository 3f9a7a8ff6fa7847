/// The step of a deployment that an event or log line is about.
public enum EventStep: String, Codable, Sendable, CaseIterable {
    /// The gateway accepted the request.
    case request
    /// The gateway handed the request to the bus.
    case submit
    /// The renderer rendered the egg.
    case render
    /// A deployer took the job; its details carry the deployer's time budget (`budget_seconds`).
    case accept
    /// A deployer checked the job before starting.
    case validate
    /// Connecting to the hypervisor.
    case connect
    /// Looking for an instance of an earlier attempt.
    case inspect
    /// Continuing an earlier attempt.
    case resume
    /// Finding the image.
    case image
    /// Creating or updating the egg's LXD profile.
    case profile
    /// Choosing a cluster member.
    case placement
    /// Creating the instance.
    case create
    /// Starting the instance.
    case start
    /// Waiting for cloud-init to finish.
    case cloudInit = "cloud-init"
    /// Reading the instance's addresses and state.
    case info
    /// The deployment is done.
    case done
    /// Removing what a failed or cancelled deployment created.
    case cleanup
    /// Cancelling.
    case cancel
    /// The deployment ran out of time.
    case timeout
    /// Deploying, where no finer step applies.
    case deploy
}
