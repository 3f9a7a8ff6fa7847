import Testing

@testable import ApiGateway

@Suite("Egress: where webhooks may go, checked when the connection is made")
struct EgressGuardTests {
    @Test func addressesAreClassified() {
        for a in ["169.254.169.254", "169.254.0.1", "0.0.0.9", "224.0.0.1", "fe80::1", "fd00:ec2::254", "::", "ff02::1", "::ffff:169.254.169.254"] {
            #expect(EgressGuard.kind(of: a) == .forbidden, "\(a)")
        }
        for a in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] { #expect(EgressGuard.kind(of: a) == .loopback, "\(a)") }
        for a in ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "fd12:3456::1"] {
            #expect(EgressGuard.kind(of: a) == .private, "\(a)")
        }
        for a in ["8.8.8.8", "172.32.0.1", "2001:db8::1"] { #expect(EgressGuard.kind(of: a) == .public, "\(a)") }
    }

    @Test func theMetadataServiceIsRefusedWhateverTheSetting() {
        for setting in [nil, "loopback", "169.254.169.254", "private"] as [String?] {
            #expect(throws: EgressGuard.Refused.self, "\(setting ?? "any")") {
                try EgressGuard(policy: HostPolicy(setting)).resolve(host: "169.254.169.254", port: 80)
            }
        }
        #expect(throws: EgressGuard.Refused.self) { try EgressGuard(policy: HostPolicy(nil)).resolve(host: "[fd00:ec2::254]", port: 80) }
    }

    @Test func loopbackAndPrivateNeedTheirAllowAndThePinnedAddressIsTheCheckedOne() throws {
        #expect(throws: EgressGuard.Refused.self) { try EgressGuard(policy: HostPolicy(nil)).resolve(host: "127.0.0.1", port: 80) }
        #expect(throws: EgressGuard.Refused.self) { try EgressGuard(policy: HostPolicy(nil)).resolve(host: "localhost", port: 80) }
        #expect(try EgressGuard(policy: HostPolicy("loopback")).resolve(host: "127.0.0.1", port: 80) == "127.0.0.1")
        let local = try EgressGuard(policy: HostPolicy("loopback")).resolve(host: "localhost", port: 80)
        #expect(EgressGuard.kind(of: local) == .loopback)
        #expect(throws: EgressGuard.Refused.self) { try EgressGuard(policy: HostPolicy("loopback")).resolve(host: "10.0.0.1", port: 80) }
        #expect(try EgressGuard(policy: HostPolicy("private")).resolve(host: "10.0.0.1", port: 80) == "10.0.0.1")
    }
}
