import Foundation
import Hummingbird
import Testing

@testable import ApiGateway

@Suite("Keys: last use, revocation ends streams, repeated failures get 429")
struct KeyHardeningTests {
    @Test func repeatedFailuresFromOneAddressGet429ButAKnownGoodKeyStillWorks() async throws {
        let h = try await Harness()
        try await h.run { c in
            _ = try await c.call(.get, "/iceshelves/api/eggs", key: "isk_000000000000_first")  // the address is watched from its first failure
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: h.viewer).status == .ok)
            for _ in 0..<19 { _ = try await c.call(.get, "/iceshelves/api/eggs", key: "isk_000000000000_guess") }
            let blocked = try await c.call(.get, "/iceshelves/api/eggs", key: "isk_000000000000_guess")
            #expect(blocked.status == .tooManyRequests, "\(blocked.text)")
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: nil).status == .tooManyRequests)
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: h.viewer).status == .ok, "a key that worked from this address before")
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: h.operatorKey).status == .tooManyRequests, "not checked while blocked")
        }
    }

    @Test func lastUsedIsRecorded() async throws {
        let h = try await Harness()
        try await h.run { c in
            #expect(try await c.call(.get, "/iceshelves/api/eggs", key: h.viewer).status == .ok)
            var seen = false
            for _ in 0..<50 where !seen {
                try await Task.sleep(for: .milliseconds(20))
                seen = try await h.gateway.keys.list().contains { $0.name == "viewer" && $0.lastUsedAt != nil }
            }
            #expect(seen)
        }
    }

    @Test func anEventStreamEndsWhenItsKeyIsRevoked() async throws {
        let h = try await Harness()
        let created = try await h.gateway.keys.create(name: "watcher", role: .viewer, by: nil)
        try await h.run { c in
            let started = ContinuousClock.now
            async let stream = c.call(.get, "/iceshelves/api/events", key: created.key)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await h.gateway.keys.revoke(id: created.id))
            let r = try await stream
            #expect(r.status == .ok)
            #expect(ContinuousClock.now - started < .seconds(5), "the stream ended after the revoke")
        }
    }
}
