import IceShelvesContracts
import IceShelvesDeploy
import Testing

@testable import LxdDeployer

@Suite("Deployer parts")
struct DeployerPartsTests {
    @Test func instanceNamesFollowLXDsRules() {
        #expect(InstanceNameRule.problem("hello-1") == nil)
        #expect(InstanceNameRule.problem(String(repeating: "a", count: 63)) == nil)
        #expect(InstanceNameRule.problem(String(repeating: "a", count: 64)) != nil)
        #expect(InstanceNameRule.problem("") != nil)
        #expect(InstanceNameRule.problem("1abc") != nil)
        #expect(InstanceNameRule.problem("-abc") != nil)
        #expect(InstanceNameRule.problem("abc-") != nil)
        #expect(InstanceNameRule.problem("a_b") != nil)
        #expect(InstanceNameRule.problem("a/../b") != nil)
        #expect(InstanceNameRule.problem("héllo") != nil)
    }

    @Test func cloudInitJSONIsReadNotOnlyItsExitCode() throws {
        let done = try #require(CloudInitStatus.parse(json: #"{"status": "done", "errors": [], "detail": "DataSourceLXD"}"#, exitCode: 0))
        #expect(done.outcome == .done)
        let error = try #require(
            CloudInitStatus.parse(
                json:
                    #"{"status": "error", "errors": ["('scripts-user', RuntimeError('Runparts: 1 failures (runcmd) in 1 attempted commands'))"], "detail": "x"}"#,
                exitCode: 1
            )
        )
        #expect(error.outcome == .error)
        #expect(error.errors.first?.contains("runcmd") == true)
        let degraded = try #require(
            CloudInitStatus.parse(
                json: #"{"status": "done", "extended_status": "degraded done", "errors": [], "recoverable_errors": {"WARNING": ["x"]}}"#,
                exitCode: 2
            )
        )
        #expect(degraded.outcome == .degraded)
        #expect(CloudInitStatus.parse(json: #"{"status": "disabled"}"#, exitCode: 0)?.outcome == .other("disabled"))
        #expect(CloudInitStatus.parse(json: "status: done", exitCode: 0) == nil)
    }

    @Test func cloudInitsResultFileSaysDoneErrorOrDegraded() throws {
        let done = try #require(CloudInitStatus.parse(result: Array(#"{"v1": {"datasource": "DataSourceLXD", "errors": []}}"#.utf8)))
        #expect(done.outcome == .done)
        let error = try #require(
            CloudInitStatus.parse(
                result: Array(#"{"v1": {"datasource": "DataSourceLXD", "errors": ["('scripts-user', RuntimeError('runcmd'))"]}}"#.utf8)
            )
        )
        #expect(error.outcome == .error)
        #expect(error.errors == ["('scripts-user', RuntimeError('runcmd'))"])
        let degraded = try #require(
            CloudInitStatus.parse(result: Array(#"{"v1": {"errors": [], "recoverable_errors": {"WARNING": ["deprecated key"]}}}"#.utf8))
        )
        #expect(degraded.outcome == .degraded)
        #expect(degraded.errors == ["WARNING: deprecated key"])
        #expect(CloudInitStatus.parse(result: Array("../../var/lib/cloud/data/result.json".utf8)) == nil)
        #expect(CloudInitStatus.parse(result: Array(#"{"v2": {}}"#.utf8)) == nil)
    }

    @Test func anEggProfileBecomesAStringOnlyLXDProfileNamedAfterTheVersion() throws {
        let yaml = """
            description: Docker needs nesting.
            config:
              security.nesting: true
              limits.cpu: 2
            devices:
              data:
                type: disk
                path: /data
                source: /srv
            """
        let p = try ProfileMapper.profile(yaml: yaml, egg: "ubuntu-docker", version: "1.2.0", contentHash: "0123456789abcdef")
        #expect(p.name == "iceshelves-ubuntu-docker-1.2.0-0123456789ab")
        #expect(p.config == ["security.nesting": "true", "limits.cpu": "2"])
        #expect(p.devices["data"]?["path"] == "/data")
        #expect(LXDInstancePlan.profileName(egg: "x", version: "1.0.0+build/7", contentHash: "ff00") == "iceshelves-x-1.0.0-build-7-ff00")
        #expect(throws: DeployFailure.self) { try ProfileMapper.profile(yaml: "a: [", egg: "x", version: "1", contentHash: "ff") }
    }

    @Test func theMarkerSaysWhoseInstanceItIs() {
        #expect(InstanceMarker.belongs([InstanceMarker.deploymentId: "d1"], to: "d1"))
        #expect(!InstanceMarker.belongs([InstanceMarker.deploymentId: "d2"], to: "d1"))
        #expect(!InstanceMarker.belongs([:], to: "d1"))
    }
}
