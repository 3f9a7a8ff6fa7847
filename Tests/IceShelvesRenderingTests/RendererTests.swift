import Foundation
import IceShelvesContracts
import IceShelvesEggs
import IceShelvesTestSupport
import Testing
import Yams

@testable import IceShelvesRendering

@Suite("Renderer")
struct RendererTests {
    static let eggsFolder = Tool.eggsFolder()

    static func egg(_ name: String) throws -> Egg { try EggFolderLoader().load(folder: eggsFolder + "/" + name, name: name) }

    static func request(
        _ egg: String = "ubuntu-base",
        target: TargetType = .lxd,
        variables: [String: VariableValue] = [:],
        overrides: RenderOverrides = .init()
    ) -> DeploymentRequested {
        DeploymentRequested(deploymentId: "dep-42", eggName: egg, instanceName: "web-1", target: target, variables: variables, overrides: overrides)
    }

    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldenKeyForTestsOnly user@example"

    /// Golden files: tests/…/Golden/<egg>.user-data holds the expected bytes.
    @Test(arguments: ["ubuntu-base", "ubuntu-docker", "ubuntu-nginx", "ubuntu-k8s-node", "debian-hello"])
    func goldenOutputForTypicalInputs(_ name: String) throws {
        let egg = try Self.egg(name)
        let out = try Renderer().render(
            egg: egg,
            request: Self.request(
                name,
                variables: ["hostname": .string("node-7"), "ssh_authorized_keys": .list([Self.key])],
                overrides: .init(extraPackages: ["jq"], timezone: name == "debian-hello" ? nil : "Europe/Berlin")
            )
        )
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).user-data")
        if ProcessInfo.processInfo.environment["ICESHELVES_UPDATE_GOLDEN"] == "1" {
            try out.userData.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(out.userData == expected)
        #expect(out.metaData == "instance-id: \"iid-dep-42\"\nlocal-hostname: \"node-7\"\n")
    }

    @Test func mergeRules() throws {
        let egg = try Self.egg("ubuntu-base")
        let extra = """
            #cloud-config
            packages: [tmux]
            runcmd: [[echo, extra]]
            write_files:
              - path: /etc/extra
                content: x
            ssh_pwauth: true
            """
        let out = try Renderer().render(
            egg: egg,
            request: Self.request(overrides: .init(extraPackages: ["jq"], cloudConfig: extra, replaceLists: ["write_files"]))
        )
        let root = try #require(try Yams.compose(yaml: out.userData)?.mapping)
        let packages = root["packages"]?.sequence?.compactMap(\.string) ?? []
        #expect(packages.first == "vim")  // the egg's list comes first
        #expect(packages.suffix(2) == ["tmux", "jq"])  // lists append
        #expect(root["runcmd"]?.sequence?.count == 1)
        #expect(root["write_files"]?.sequence?.count == 1)  // replaced on request
        #expect(root["write_files"]?.sequence?.first?.mapping?["path"]?.string == "/etc/extra")
        #expect(root["ssh_pwauth"]?.bool == true)  // scalars replace
    }

    static let hostile = ["x\nruncmd: [reboot]", "a: b", "#", "{x}", "---\nb: 1", "\"q\" 'q'", "&a *a", "\\", "- item", "true"]

    @Test(arguments: hostile)
    func hostileVariableValuesNeverInject(_ value: String) throws {
        let egg = try Self.egg("debian-hello")
        let out = try Renderer().render(egg: egg, request: Self.request("debian-hello", variables: ["greeting": .string(value)]))
        let root = try #require(try Yams.compose(yaml: out.userData)?.mapping)
        #expect(Set(root.keys.compactMap(\.string)) == ["hostname", "package_update", "package_upgrade", "write_files", "runcmd", "final_message"])
        #expect(root["write_files"]?.sequence?.first?.mapping?["content"]?.string == value)
        #expect(root["runcmd"]?.sequence?.count == 1)
    }

    @Test(arguments: [
        RenderOverrides(hostname: "bad host"),
        RenderOverrides(sshAuthorizedKeys: ["ssh-rsa AAAAB3\nruncmd: [reboot]"]),
        RenderOverrides(extraPackages: ["vim; rm -rf /"]),
        RenderOverrides(timezone: "UTC\nruncmd: x"),
        RenderOverrides(cloudConfig: "- not a mapping"),
        RenderOverrides(cloudConfig: "runcmds: [typo]"),
        RenderOverrides(networkConfig: "ethernets: {}"),
    ])
    func badOverridesAreRefusedWithAReason(_ overrides: RenderOverrides) throws {
        let egg = try Self.egg("ubuntu-base")
        #expect(throws: RenderError.self) { try Renderer().render(egg: egg, request: Self.request(overrides: overrides)) }
    }

    @Test func undeclaredAndInvalidVariablesAreRefused() throws {
        let egg = try Self.egg("ubuntu-base")
        #expect(throws: RenderError.self) { try Renderer().render(egg: egg, request: Self.request(variables: ["nope": .string("x")])) }
        #expect(throws: RenderError.self) { try Renderer().render(egg: egg, request: Self.request(variables: ["hostname": .string("Bad_Host")])) }
        var bad = Self.request()
        bad.instanceName = "1-starts-with-digit"
        #expect(throws: RenderError.self) { try Renderer().render(egg: egg, request: bad) }
    }

    @Test func deterministicAndStablePerDeployment() throws {
        let egg = try Self.egg("ubuntu-docker")
        let a = try Renderer().render(egg: egg, request: Self.request("ubuntu-docker"))
        let b = try Renderer().render(egg: egg, request: Self.request("ubuntu-docker"))
        #expect(a == b)
        var other = Self.request("ubuntu-docker")
        other.deploymentId = "dep-43"
        #expect(try Renderer().render(egg: egg, request: other).metaData != a.metaData)
        #expect(a.lxdProfile?.contains("security.nesting") == true)
    }

    @Test func networkConfigAndKvmFragmentPassThrough() throws {
        let egg = try Self.egg("debian-hello")
        let net = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
        let out = try Renderer().render(egg: egg, request: Self.request("debian-hello", target: .kvm, overrides: .init(networkConfig: net)))
        #expect(out.networkConfig == net)
        #expect(out.kvmConfig?.contains("<vcpu>1</vcpu>") == true)
        #expect(out.lxdProfile == nil)
    }

    @Test(
        .enabled(if: Tool.cloudInitAvailable, "needs Debian's cloud-init (scripts/test sets ICESHELVES_TEST_CLOUD_INIT=1)"),
        arguments: ["ubuntu-base", "ubuntu-docker", "ubuntu-nginx", "ubuntu-k8s-node", "debian-hello"]
    )
    func realCloudInitSchemaAcceptsRenderedUserData(_ name: String) throws {
        let out = try Renderer().render(
            egg: try Self.egg(name),
            request: Self.request(name, variables: ["ssh_authorized_keys": .list([Self.key])], overrides: .init(extraPackages: ["jq"]))
        )
        let (status, text) = try Tool.cloudInitSchema(out.userData)
        #expect(status == 0, "\(text)")
    }
}
