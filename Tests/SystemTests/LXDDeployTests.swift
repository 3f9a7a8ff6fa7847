import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesTestSupport
import Logging
import Testing

/// The offline egg deployed through the whole pipeline (catalog, renderer, deployer) to real
/// LXD, over each transport and onto the 2-member cluster; failures, and a deployer killed mid-deploy.
@Suite("LXD deployments (real LXD, RabbitMQ, sshd)", .serialized,
       .enabled(if: LXDStack.ready && TestLXD.unixSocket != nil, "run scripts/lxd-env up and set ICESHELVES_TEST_LXD_AMQP_URL (scripts/test does)"))
struct LXDDeployTests {
    let connector = LXDConnector(timeout: .seconds(10), logger: Logger(label: "lxd-deploy-test"))

    static func request(_ connection: ClusterConnection, name: String, member: String? = nil, image: String? = nil,
                        greeting: String = "hello from the test", cloudConfig: String? = nil) -> DeploymentRequested {
        let id = "dep-\(UUID().uuidString.prefix(12).lowercased())"
        return DeploymentRequested(deploymentId: id, eggName: "debian-hello", instanceName: name, target: .lxd,
                                   variables: ["greeting": .string(greeting)], overrides: .init(cloudConfig: cloudConfig),
                                   destination: DeploymentTarget(clusterId: "test", connection: connection, targetMember: member, image: image))
    }

    /// Checks inside the instance that cloud-init finished and the egg took effect, then removes it by RPC.
    func verifyAndClean(_ stack: LXDStack, _ request: DeploymentRequested, _ events: [DeploymentEvent], check: ClusterConnection) async throws {
        let last = try #require(events.last)
        #expect(last.status == .completed, "\(events.map { "\($0.status)/\($0.step): \($0.message)" })")
        #expect(last.details["name"] == request.instanceName)
        #expect(last.details["status"] == "Running")
        #expect(last.details["architecture"]?.isEmpty == false)
        let steps = events.map(\.step)
        for step: EventStep in [.render, .connect, .create, .start, .cloudInit, .done] { #expect(steps.contains(step), "no \(step) event") }

        let lxd = try await connector.connect(check)
        defer { lxd.close() }
        let greeting = String(decoding: try await lxd.file(request.instanceName, path: "/etc/iceshelves/hello.txt"), as: UTF8.self)
        #expect(greeting == "hello from the test")
        let done = String(decoding: try await lxd.file(request.instanceName, path: "/var/lib/iceshelves-hello.done"), as: UTF8.self)
        #expect(done.contains("ok"))
        let status = try await lxd.exec(request.instanceName, ["cloud-init", "status"], timeout: .seconds(30))
        #expect(status.stdout.contains("done"), "\(status.stdout)")

        let cleanup = try await stack.client.call(Envelope(LXDCleanupRequest(connection: request.destination!.connection, instanceName: request.instanceName,
                                                                             deploymentId: request.deploymentId)),
                                                  service: .lxdDeployer, expecting: LXDCleanupResult.self, timeout: .seconds(60))
        #expect(cleanup.payload.removed)
        #expect(try await lxd.instance(request.instanceName) == nil)
    }

    /// A fresh name per run, so a run that was interrupted leaves nothing in the next one's way.
    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())" }
    let badImageName = unique("hello-badimage")
    let ciErrorName = unique("hello-ci-error")
    let takenName = unique("hello-taken")
    let kill9Name = unique("hello-kill9")
    let cancelName = unique("hello-cancel")
    let keptName = unique("hello-kept")

    func withStack(deployer: Bool = true, _ body: (LXDStack) async throws -> Void) async throws {
        let stack = try await LXDStack()
        do {
            if deployer { try await stack.startDeployer() }
            try await body(stack)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    @Test func deploysOverTheUnixSocketHTTPSAndTheSSHTunnel() async throws {
        try await withStack { stack in
            for (label, connection) in [("unix", TestLXD.unixSocket), ("https", TestLXD.https), ("ssh", TestLXD.ssh)] {
                let c = try #require(connection, "\(label) is not configured")
                let request = Self.request(c, name: "hello-\(label)-\(UUID().uuidString.prefix(4).lowercased())")
                let events = try await stack.deploy(request)
                try await verifyAndClean(stack, request, events, check: try #require(TestLXD.unixSocket))
            }
        }
    }

    @Test func placesOnANamedMemberAndByTheRuleOnTheCluster() async throws {
        let cluster = try #require(TestLXD.cluster)
        let members = TestLXD.clusterMembers
        try #require(members.count == 2)
        try await withStack { stack in
            let named = Self.request(cluster, name: "hello-named-\(UUID().uuidString.prefix(4).lowercased())", member: members[1])
            let namedEvents = try await stack.deploy(named)
            #expect(namedEvents.last?.details["member"] == members[1])
            try await verifyAndClean(stack, named, namedEvents, check: cluster)

            let auto = Self.request(cluster, name: "hello-auto-\(UUID().uuidString.prefix(4).lowercased())")
            let autoEvents = try await stack.deploy(auto)
            let landed = try #require(autoEvents.last?.details["member"])
            #expect(members.contains(landed))
            #expect(autoEvents.first { $0.step == .create }?.details["member"] == landed, "the create event names the chosen member")
            try await verifyAndClean(stack, auto, autoEvents, check: cluster)
        }
    }

    @Test func aBadImageAliasFailsAndLeavesNothing() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let request = Self.request(c, name: badImageName, image: "iceshelves/no-such-image")
            let events = try await stack.deploy(request)
            let last = try #require(events.last)
            #expect(last.status == .failed)
            #expect(last.step == .image)
            #expect(last.message.contains("iceshelves/no-such-image"))
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(badImageName) == nil)
        }
    }

    @Test func aCloudInitErrorFailsWithItsErrorsAndLeavesNothing() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let request = Self.request(c, name: ciErrorName, cloudConfig: "runcmd:\n  - [sh, -c, \"exit 3\"]\n")
            let events = try await stack.deploy(request)
            let last = try #require(events.last)
            #expect(last.status == .failed, "\(events.map(\.message))")
            #expect(last.step == .cloudInit)
            #expect(last.message.contains("runcmd") || last.message.contains("scripts-user"), "\(last.message)")
            #expect(events.contains { $0.step == .cleanup })
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(ciErrorName) == nil)
        }
    }

    @Test func aNameThatBelongsToSomethingElseIsAClearFailureAndIsLeftAlone() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let first = Self.request(c, name: takenName)
            let events = try await stack.deploy(first)
            #expect(events.last?.status == .completed)
            let second = Self.request(c, name: takenName)
            let again = try await stack.deploy(second)
            #expect(again.last?.status == .failed)
            #expect(again.last?.message.contains("already exists") == true)
            try await verifyAndClean(stack, first, events, check: c)
        }
    }

    @Test func aDeployerKilledMidDeployLosesNothingAndCreatesOneInstance() async throws {
        try await withStack(deployer: false) { stack in
            let c = try #require(TestLXD.unixSocket)
            let first = try await stack.startDeployer()
            let request = Self.request(c, name: kill9Name)
            nonisolated(unsafe) var killed = false
            let events = try await stack.deploy(request) { event in
                if event.step == .create && !killed {
                    kill(first.processIdentifier, SIGKILL)
                    killed = true
                    try await stack.startDeployer()
                }
            }
            #expect(killed)
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            let ours = try await lxd.instances().filter { $0.config["user.iceshelves.deployment-id"] == request.deploymentId }
            #expect(ours.count == 1, "exactly one instance for the deployment, found \(ours.map(\.name))")
            try await verifyAndClean(stack, request, events, check: c)
            #expect(try await lxd.instance(kill9Name) == nil)
        }
    }

    @Test func aCancelStopsTheWorkAndCleansUp() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            let request = Self.request(c, name: cancelName)
            let events = try await stack.deploy(request) { event in
                if event.step == .cloudInit && event.status == .inProgress {
                    let cancel = DeploymentCancel(deploymentId: request.deploymentId, reason: "test")
                    try await stack.client.publish(Envelope(cancel, deploymentId: request.deploymentId), exchange: BusNames.eventsExchange,
                                                   routingKey: cancel.routingKey, mandatory: false)
                }
            }
            #expect(events.last?.status == .cancelled, "\(events.map { "\($0.status)/\($0.step)" })")
            #expect(events.contains { $0.step == .cleanup })
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(cancelName) == nil)
        }
    }

    @Test func aFailedDeploymentThatAskedToKeepItsInstanceKeepsIt() async throws {
        try await withStack { stack in
            let c = try #require(TestLXD.unixSocket)
            var request = Self.request(c, name: keptName, cloudConfig: "runcmd:\n  - [sh, -c, \"exit 4\"]\n")
            request.destination?.keepOnFailure = true
            let events = try await stack.deploy(request)
            #expect(events.last?.status == .failed)
            #expect(!events.contains { $0.step == .cleanup })
            let lxd = try await connector.connect(c)
            defer { lxd.close() }
            #expect(try await lxd.instance(keptName) != nil)
            await #expect(throws: RPCError.self, "cleanup for another deployment must be refused") {
                _ = try await stack.client.call(Envelope(LXDCleanupRequest(connection: c, instanceName: keptName, deploymentId: "someone-else")),
                                                service: .lxdDeployer, expecting: LXDCleanupResult.self, timeout: .seconds(60))
            }
            let removed = try await stack.client.call(Envelope(LXDCleanupRequest(connection: c, instanceName: keptName, deploymentId: request.deploymentId)),
                                                      service: .lxdDeployer, expecting: LXDCleanupResult.self, timeout: .seconds(60)).payload
            #expect(removed.removed)
        }
    }

    @Test func theConnectionTestReportsVersionMembersAndResources() async throws {
        try await withStack { stack in
            let result = try await stack.client.call(Envelope(LXDTestRequest(connection: try #require(TestLXD.cluster))), service: .lxdDeployer,
                                                     expecting: LXDTestResult.self, timeout: .seconds(30)).payload
            #expect(result.clustered)
            #expect(Set(result.members.map(\.name)) == Set(TestLXD.clusterMembers))
            #expect(result.members.allSatisfy { $0.status == "Online" })
            #expect(result.cpuCores > 0 && result.memoryBytes > 0)
            #expect(result.auth == "trusted")
            #expect(!result.serverVersion.isEmpty)

            var wrong = try #require(TestLXD.https)
            wrong.serverCert = TestLXD.clusterCertificate
            await #expect {
                _ = try await stack.client.call(Envelope(LXDTestRequest(connection: wrong)), service: .lxdDeployer, expecting: LXDTestResult.self, timeout: .seconds(30))
            } throws: { error in
                "\(error)".contains("pinned certificate")
            }
        }
    }
}
