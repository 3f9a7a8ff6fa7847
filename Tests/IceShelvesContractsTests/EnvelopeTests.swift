import Foundation
import IceShelvesContracts
import Testing

@Suite("Envelope")
struct EnvelopeTests {
    @Test func roundTripKeepsEveryField() throws {
        let date = Date(timeIntervalSince1970: 1_790_000_000.123)
        let envelope = Envelope(
            Pong(service: "egg-catalog", version: "1", instanceId: "i", uptimeSeconds: 2.5),
            messageId: "m1",
            correlationId: "c1",
            deploymentId: "d1",
            timestamp: date
        )
        let bytes = try MessageCodec.encode(envelope)
        let decoded = try MessageCodec.decode(Pong.self, from: bytes)
        #expect(decoded.type == "pong")
        #expect(decoded.version == 1)
        #expect(decoded.messageId == "m1")
        #expect(decoded.correlationId == "c1")
        #expect(decoded.deploymentId == "d1")
        #expect(abs(decoded.timestamp.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.001)
        #expect(decoded.payload == envelope.payload)
    }

    @Test func wireFormatUsesSnakeCaseKeys() throws {
        let bytes = try MessageCodec.encode(Envelope(Ping(), messageId: "m", deploymentId: "d"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(Set(json.keys) == ["type", "version", "message_id", "deployment_id", "timestamp", "payload"])
    }

    @Test func wrongTypeIsRefused() throws {
        let bytes = try MessageCodec.encode(Envelope(Ping()))
        #expect(throws: ContractError.wrongType(expected: "pong", found: "ping")) {
            try MessageCodec.decode(Pong.self, from: bytes)
        }
    }

    @Test func unknownVersionIsRefused() throws {
        let json = #"{"type":"ping","version":99,"message_id":"m","timestamp":"2026-01-01T00:00:00Z","payload":{}}"#
        #expect(throws: ContractError.unsupportedVersion(type: "ping", expected: 1, found: 99)) {
            try MessageCodec.decode(Ping.self, from: Array(json.utf8))
        }
    }

    @Test(arguments: ["", "not json", "{}", "[1,2]", #"{"type":"ping"}"#, String(repeating: "[", count: 10_000)])
    func garbageIsAClearErrorNotACrash(_ text: String) {
        #expect(throws: ContractError.self) { try MessageCodec.decode(Ping.self, from: Array(text.utf8)) }
    }

    @Test func missingFieldNamesTheField() {
        let json = #"{"type":"pong","version":1,"message_id":"m","timestamp":"2026-01-01T00:00:00Z","payload":{"service":"x"}}"#
        do {
            _ = try MessageCodec.decode(Pong.self, from: Array(json.utf8))
            Issue.record("decoded an incomplete pong")
        } catch {
            #expect("\(error)".contains("payload.version"))
        }
    }

    @Test func headerReadsTypeWithoutPayloadType() throws {
        let bytes = try MessageCodec.encode(Envelope(Ping(), messageId: "abc"))
        let header = try MessageCodec.header(from: bytes)
        #expect(header.type == "ping")
        #expect(header.messageId == "abc")
    }

    @Test func rpcQueueNamesFollowTheServiceNames() {
        #expect(ServiceName.eggCatalog.rpcQueue == "rpc.egg-catalog")
        #expect(ServiceName.allCases.count == 7)
    }
}
