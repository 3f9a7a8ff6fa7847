import Foundation
import IceShelvesContracts
import Testing

@Suite("Warm pool contract")
struct WarmPoolSpecTests {
    @Test func theKeyIsStableAndNamesImageProfilesAndMember() {
        let a = WarmPoolSpec(image: "iceshelves/debian-12", size: 2)
        #expect(a.key == WarmPoolSpec(image: "iceshelves/debian-12", size: 5, profiles: ["default"]).key, "size is not part of it; default profiles")
        #expect(a.key == "\(a.key.prefix(16))" && a.key.count == 16 && a.key.allSatisfy(\.isHexDigit))
        #expect(a.key != WarmPoolSpec(image: "iceshelves/busybox", size: 2).key)
        #expect(a.key != WarmPoolSpec(image: "iceshelves/debian-12", size: 2, member: "node1").key)
        #expect(a.key != WarmPoolSpec(image: "iceshelves/debian-12", size: 2, profiles: ["default", "x"]).key)
        #expect(WarmPoolSpec(image: "i", size: 1, profiles: []).profileSet == ["default"])
    }

    @Test func problemsAreNamed() {
        #expect(WarmPoolSpec(image: "iceshelves/debian-12", size: 0).problem == nil)
        #expect(WarmPoolSpec(image: "4fef3d65ec41", size: 50, profiles: ["default", "web_1.0"], member: "node2").problem == nil)
        #expect(WarmPoolSpec(image: "", size: 1).problem?.contains("image") == true)
        #expect(WarmPoolSpec(image: "a b", size: 1).problem?.contains("image") == true)
        #expect(WarmPoolSpec(image: "débian", size: 1).problem?.contains("image") == true)
        #expect(WarmPoolSpec(image: "x", size: 51).problem?.contains("size") == true)
        #expect(WarmPoolSpec(image: "x", size: -1).problem?.contains("size") == true)
        #expect(WarmPoolSpec(image: "x", size: 1, profiles: ["a/b"]).problem?.contains("profile") == true)
        #expect(WarmPoolSpec(image: "x", size: 1, member: "1node").problem?.contains("member") == true)
    }

    @Test func theConfigTravelsInSnakeCase() throws {
        let config = WarmPoolsConfig(clusters: [.init(clusterId: "1", pools: [WarmPoolSpec(image: "i", size: 1)])])
        let json = String(decoding: try MessageCodec.encode(Envelope(config)), as: UTF8.self)
        #expect(json.contains("\"cluster_id\":\"1\""))
        #expect(try MessageCodec.decode(WarmPoolsConfig.self, from: MessageCodec.encode(Envelope(config))).payload == config)
    }
}
