import Foundation
import Hummingbird
import Testing

@testable import ApiGateway

@Suite("Agent keys: rotated with an overlap, revoked")
struct AgentKeyRoutesTests {
    static func hex(_ key: String) -> String { SHA256Digest.of(key).map { String(format: "%02x", $0) }.joined() }

    @Test func aRotatedKeyOverlapsTheOldOneAndARevokeEndsBoth() async throws {
        let h = try await Harness()
        try await h.run { c in
            let created = try await c.call(
                .post,
                "/iceshelves/api/clusters",
                key: h.admin,
                json: #"{"name":"far","connection_method":"agent-poll","agent_poll_interval":60}"#
            )
            let first = try #require(created.json["agent_key"] as? String)
            let id = try #require(created.json["cluster_id"] as? Int)
            func hashes() async throws -> [String] {
                try await h.gateway.clusters.agentKeys().clusters.first { $0.clusterId == String(id) }?.keyHashes ?? []
            }
            #expect(try await hashes() == [Self.hex(first)])
            #expect(try await c.call(.post, "/iceshelves/api/clusters/\(id)/agent-key", key: h.operatorKey).status == .forbidden)
            let rotated = try await c.call(.post, "/iceshelves/api/clusters/\(id)/agent-key", key: h.admin)
            #expect(rotated.status == .created, "\(rotated.text)")
            let second = try #require(rotated.json["agent_key"] as? String)
            #expect(second != first && second.count >= 43)
            #expect(try await hashes() == [Self.hex(second), Self.hex(first)], "both work during the overlap")
            let noOverlap = try await c.call(.post, "/iceshelves/api/clusters/\(id)/agent-key", key: h.admin, json: #"{"overlap_seconds":0}"#)
            let third = try #require(noOverlap.json["agent_key"] as? String)
            #expect(try await hashes() == [Self.hex(third)], "no overlap: only the new key")
            #expect(
                try await c.call(.post, "/iceshelves/api/clusters/\(id)/agent-key", key: h.admin, json: #"{"overlap_seconds":-1}"#).status
                    == .badRequest
            )
            #expect(try await c.call(.delete, "/iceshelves/api/clusters/\(id)/agent-key", key: h.admin).status == .ok)
            #expect(try await hashes().isEmpty, "revoked: no key works")
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"near","connection_method":"unix-socket"}"#)
            let other = try await c.call(.get, "/iceshelves/api/clusters", key: h.admin)
            let nearId = ((other.json["clusters"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == "near" }?["id"] as? Int ?? 0
            #expect(try await c.call(.post, "/iceshelves/api/clusters/\(nearId)/agent-key", key: h.admin).status == .conflict)
        }
    }
}
