import ArgumentParser
import IceShelvesBus
import IceShelvesContracts
import IceShelvesService
import IceShelvesSettings
import Logging
import Testing

@Suite("Service options")
struct ServiceOptionsTests {
    @Test func flagsWin() throws {
        let options = try ServiceOptions.parse([
            "--amqp-url", "amqp://u:p@h:1234/v", "--metrics-port=-1", "--log-level", "debug", "--rpc-concurrency", "3",
            "--shutdown-grace-seconds", "40",
        ])
        #expect(try options.resolvedAMQPURL() == AMQPURL(host: "h", port: 1234, user: "u", password: "p", vhost: "v"))
        #expect(try options.resolvedMetricsPort(default: 9101) == nil)
        #expect(try options.resolvedLogLevel() == .debug)
        #expect(try options.resolvedRPCConcurrency() == 3)
        #expect(try options.resolvedShutdownGrace() == .seconds(40))
    }

    @Test func defaultsApplyWithoutFlagsOrEnvironment() throws {
        let options = try ServiceOptions.parse([])
        let empty = Environment([:])
        #expect(try options.resolvedAMQPURL(in: empty) == .default)
        #expect(try options.resolvedMetricsPort(default: 9101, in: empty) == 9101)
        #expect(options.resolvedMetricsHost(in: empty) == "127.0.0.1")
        #expect(try options.resolvedLogLevel(in: empty) == .info)
        #expect(try options.resolvedRPCConcurrency(in: empty) == 16)
        #expect(try options.resolvedShutdownGrace(in: empty) == .seconds(25))
    }

    @Test func aClustersNodesAreOneCommaSeparatedValue() throws {
        let env = Environment(["ICESHELVES_AMQP_URL": "amqp://lxd-deployer:pw@node1:5672/v,amqp://lxd-deployer:pw@node2:5673/v"])
        let options = try ServiceOptions.parse([])
        #expect(try options.resolvedAMQPURLs(in: env).map(\.host) == ["node1", "node2"])
        #expect(try options.resolvedAMQPURL(in: env).host == "node1")
        #expect(try options.resolvedJobPublishers(for: .lxdDeployer, in: env).contains("lxd-deployer"))
        let flagged = try ServiceOptions.parse(["--amqp-url", "amqps://u:p@a/v,amqps://u:p@b/v"])
        #expect(try flagged.resolvedAMQPURLs(in: env).map(\.host) == ["a", "b"], "a flag wins over the environment")
        #expect(throws: (any Error).self) { try ServiceOptions.parse(["--amqp-url", "amqp://a:p@n1/v,amqp://b:p@n2/v"]) }
    }

    @Test func jobsAreTakenFromTheServiceThatSendsThemAndFromOneself() throws {
        let env = Environment(["ICESHELVES_AMQP_URL": "amqp://lxd-deployer:secret@h:5672/v"])
        let options = try ServiceOptions.parse([])
        #expect(try options.resolvedJobPublishers(for: .lxdDeployer, in: env) == ["cloud-init-renderer", "api-gateway", "lxd-deployer"])
        #expect(try options.resolvedJobPublishers(for: .cloudInitRenderer, in: Environment([:])) == ["api-gateway", "guest"])
        let listed = try ServiceOptions.parse(["--job-publishers", " renderer-b , ops "])
        #expect(try listed.resolvedJobPublishers(for: .agentBroker, in: env) == ["renderer-b", "ops", "lxd-deployer"])
        #expect(throws: ValidationError.self) {
            try ServiceOptions.parse(["--job-publishers", " , "]).resolvedJobPublishers(for: .kvmDeployer, in: env)
        }
    }

    @Test func theEnvironmentFillsInWhatNoFlagSets() throws {
        let env = Environment([
            "ICESHELVES_METRICS_PORT": "-1", "ICESHELVES_METRICS_HOST": "127.0.0.2", "ICESHELVES_LOG_LEVEL": "debug",
            "ICESHELVES_RPC_CONCURRENCY": "4", "ICESHELVES_SHUTDOWN_GRACE_SECONDS": "12",
        ])
        let options = try ServiceOptions.parse([])
        #expect(try options.resolvedMetricsPort(default: 9101, in: env) == nil)
        #expect(options.resolvedMetricsHost(in: env) == "127.0.0.2")
        #expect(try options.resolvedLogLevel(in: env) == .debug)
        #expect(try options.resolvedRPCConcurrency(in: env) == 4)
        #expect(try options.resolvedShutdownGrace(in: env) == .seconds(12))
        let flagged = try ServiceOptions.parse(["--metrics-port", "9200", "--rpc-concurrency", "2"])
        #expect(try flagged.resolvedMetricsPort(default: 9101, in: env) == 9200, "a flag wins over the environment")
        #expect(try flagged.resolvedRPCConcurrency(in: env) == 2)
    }

    @Test(arguments: [
        ["--amqp-url", "http://nope"],
        ["--log-level", "loud"],
        ["--metrics-port", "70000"],
        ["--rpc-concurrency", "0"],
        ["--shutdown-grace-seconds", "0"],
        ["--shutdown-grace-seconds", "soon"],
    ])
    func badValuesAreClearErrors(_ args: [String]) {
        #expect(throws: (any Error).self) { try ServiceOptions.parse(args) }
    }

    @Test func aBadURLErrorDoesNotShowThePassword() {
        do {
            _ = try ServiceOptions.parse(["--amqp-url", "amqp://u:hunter2@h:port/"])
            Issue.record("accepted a bad URL")
        } catch {
            #expect(!ServiceOptions.message(for: error).contains("hunter2"))
        }
    }

    @Test func helpDocumentsEveryEnvironmentKey() {
        let help = ServiceOptions.helpMessage()
        for key in [
            "ICESHELVES_AMQP_URL", "ICESHELVES_METRICS_HOST", "ICESHELVES_METRICS_PORT", "ICESHELVES_LOG_LEVEL", "ICESHELVES_RPC_CONCURRENCY",
            "ICESHELVES_SHUTDOWN_GRACE_SECONDS", "ICESHELVES_DELIVERY_LIMIT", "ICESHELVES_JOB_PUBLISHERS",
        ] {
            #expect(help.contains(key), "--help does not mention \(key)")
        }
    }

    /// In-flight work may run until 5 s before the budget ends, or half of it when it is short.
    @Test(arguments: [(25, 20.0), (10, 5.0), (4, 2.0), (1, 0.5), (60, 55.0)])
    func theDrainTimeLeavesRoomToRequeueAndExit(_ budget: Int, _ drain: Double) {
        let b = ShutdownBudget(budget: .seconds(budget), logger: Logger(label: "test"))
        #expect(b.drainTime == .milliseconds(Int(drain * 1000)))
    }
}
