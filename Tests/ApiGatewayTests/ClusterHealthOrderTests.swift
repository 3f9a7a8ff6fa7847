import Foundation
import Testing

@testable import ApiGateway

/// The agent-broker publishes health changes several at a time, so they may arrive out of order.
@Suite("Agent-poll cluster health, out of order")
struct ClusterHealthOrderTests {
    @Test func aLateInactiveDoesNotUndoANewerActive() async throws {
        let h = try await Harness()
        try await h.run { c in
            let made = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"edge","connection_method":"agent-poll"}"#)
            #expect(made.status == .created, "\(made.text)")
        }
        let clusters = h.gateway.clusters
        #expect(try await clusters.recordAgentHealth(1, status: "active", lastSeen: "2026-12-01T05:00:00.000Z", message: "polled") == "unknown")
        #expect(try await clusters.recordAgentHealth(1, status: "inactive", lastSeen: "2026-12-01T05:00:00.000Z", message: "silent") == "active")
        #expect(try await clusters.recordAgentHealth(1, status: "active", lastSeen: "2026-12-01T05:01:00.000Z", message: "polled") == "inactive")
        // The sweep's inactive of the earlier silence, arriving after the newer active: ignored.
        #expect(try await clusters.recordAgentHealth(1, status: "inactive", lastSeen: "2026-12-01T05:00:00.000Z", message: "silent") == nil)
        #expect(try await clusters.get(1)?.status == "active")
    }
}
