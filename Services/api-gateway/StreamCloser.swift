import ServiceLifecycle

/// Ends the live event streams when graceful shutdown begins, so that the HTTP server, which
/// waits for its responses, can stop. It runs after the server in the service list, so the
/// group shuts it down first.
struct StreamCloser: Service {
    let hub: EventHub

    func run() async throws {
        try? await gracefulShutdown()
        hub.finishAll()
    }
}
