import Foundation
import Testing

@testable import IceShelvesLXD

@Suite("LXD models")
struct ModelTests {
    /// Seen on a shared server: an instance another client was creating listed with null config,
    /// devices and profiles, which made the whole `GET /1.0/instances?recursion=1` unreadable.
    @Test func anInstanceListedMidCreationHasAnEmptyConfig() throws {
        let json = #"""
            [{"architecture":"","config":null,"devices":null,"ephemeral":false,"profiles":null,"stateful":false,"name":"half","status":"Stopped"},
             {"name":"full","status":"Running","config":{"user.iceshelves.deployment-id":"dep-1"},"profiles":["default"]}]
            """#
        let instances = try JSONDecoder().decode([LXDInstance].self, from: Data(json.utf8))
        #expect(instances.map(\.name) == ["half", "full"])
        #expect(instances[0].config.isEmpty)
        #expect(instances[0].profiles == nil)
        #expect(instances[1].config["user.iceshelves.deployment-id"] == "dep-1")
    }

    /// The warm-pool filler reads when an instance was last started (LXD's nanosecond
    /// timestamps; never started is the zero time).
    @Test func theLastStartIsRead() throws {
        let json = #"""
            {"name":"p","status":"Stopped","config":{},"created_at":"2026-12-01T07:02:14.989813978Z","last_used_at":"1970-01-01T00:00:00Z"}
            """#
        let instance = try JSONDecoder().decode(LXDInstance.self, from: Data(json.utf8))
        #expect(LXDInstance.date(instance.lastUsedAt) == Date(timeIntervalSince1970: 0))
        #expect(LXDInstance.date("2026-12-01T07:02:14.989813978Z") == Date(timeIntervalSince1970: 1_796_108_534))
        #expect(instance.lastStarted == Date(timeIntervalSince1970: 0))
    }
}
