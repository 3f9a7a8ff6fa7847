import Foundation
import IceShelvesTestSupport
import Testing

@testable import IceShelvesRendering

@Suite(
    "NoCloud seed",
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/genisoimage") && FileManager.default.isExecutableFile(atPath: "/usr/bin/isoinfo"),
        "needs Debian's genisoimage (genisoimage, isoinfo); scripts/test installs them"
    )
)
struct SeedImageTests {
    @Test func seedHasTheLabelAndTheThreeFilesWithTheirBytes() async throws {
        let userData = "#cloud-config\nhostname: \"h\"\nwrite_files:\n  - path: /x\n    content: \"ünïcode\\n\"\n"
        let metaData = "instance-id: \"iid-dep-1\"\nlocal-hostname: \"h\"\n"
        let network = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
        let iso = try await GenisoimageSeed().makeSeed(userData: userData, metaData: metaData, networkConfig: network)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString).iso")
        try Data(iso).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let (_, info) = try Tool.run("/usr/bin/isoinfo", ["-d", "-i", file.path])
        #expect(info.contains("Volume id: cidata"))
        #expect(info.contains("Joliet"))
        #expect(info.contains("Rock Ridge"))
        for (name, bytes) in [("user-data", userData), ("meta-data", metaData), ("network-config", network)] {
            let (status, out) = try Tool.run("/usr/bin/isoinfo", ["-J", "-x", "/\(name)", "-i", file.path])
            #expect(status == 0)
            #expect(out == bytes, "\(name) differs in the ISO")
        }
    }

    @Test func networkConfigIsOptional() async throws {
        let iso = try await GenisoimageSeed().makeSeed(userData: "#cloud-config\n", metaData: "instance-id: x\n", networkConfig: nil)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString).iso")
        try Data(iso).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (_, listing) = try Tool.run("/usr/bin/isoinfo", ["-J", "-f", "-i", file.path])
        #expect(listing.split(separator: "\n").map(String.init).sorted() == ["/meta-data", "/user-data"])
    }
}
