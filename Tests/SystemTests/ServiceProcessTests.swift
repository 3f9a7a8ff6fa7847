import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Testing

/// Each service executable, as a real process against a real broker.
@Suite("Service executables", .enabled(if: SystemEnvironment.ready, "set ICESHELVES_TEST_AMQP_URL and ICESHELVES_BIN_DIR (scripts/test does)"))
struct ServiceProcessTests {
    static let services: [ServiceName] = [.apiGateway, .eggCatalog, .cloudInitRenderer, .lxdDeployer, .kvmDeployer, .agentBroker]

    @Test(arguments: services)
    func startsAnswersPingAndExitsZeroOnSIGTERM(_ service: ServiceName) async throws {
        let process = try SystemEnvironment.launch(service.rawValue, arguments: ["--metrics-port", "0"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        var logger = Logger(label: "system-test")
        logger.logLevel = .warning
        let client = AMQPClient(configuration: .init(url: SystemEnvironment.url!, name: "system-\(service.rawValue)"), logger: logger)
        client.start()
        try await client.waitUntilConnected()

        // Other copies of the same service may answer on the shared queue; wait for ours.
        let deadline = ContinuousClock.now + .seconds(30)
        var answered: Pong?
        while ContinuousClock.now < deadline, answered == nil {
            if let pong = try? await client.call(Envelope(Ping()), service: service, expecting: Pong.self, timeout: .seconds(1)).payload,
                pong.instanceId.contains("-\(process.processIdentifier)-")
            {
                answered = pong
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let pong = try #require(answered, "\(service.rawValue) did not answer ping within 30 s")
        #expect(pong.service == service.rawValue)

        kill(process.processIdentifier, SIGTERM)
        let exited = try await SystemEnvironment.waitForExit(process, timeout: .seconds(20))
        #expect(exited, "\(service.rawValue) did not exit within 20 s of SIGTERM")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        await client.shutdown()
    }

    @Test(arguments: services)
    func helpDocumentsTheEnvironment(_ service: ServiceName) async throws {
        let pipe = Pipe()
        let process = try SystemEnvironment.launch(service.rawValue, arguments: ["--help"], stdout: pipe)
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = try await SystemEnvironment.waitForExit(process, timeout: .seconds(10))
        #expect(process.terminationStatus == 0)
        #expect(out.contains("ICESHELVES_AMQP_URL"))
        #expect(out.contains("--amqp-url <url[,url...]>"), "--amqp-url does not say that it takes a cluster's nodes")
        #expect(out.contains(service.rpcQueue))
    }

    @Test func aBadBrokerURLIsAClearErrorNotACrash() async throws {
        let pipe = Pipe()
        let process = try SystemEnvironment.launch("egg-catalog", arguments: ["--amqp-url", "amqp://x:secretpw@host:notaport/"], stderr: pipe)
        let err = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = try await SystemEnvironment.waitForExit(process, timeout: .seconds(10))
        #expect(process.terminationStatus != 0)
        #expect(process.terminationReason == .exit)
        #expect(err.contains("port"))
        #expect(!err.contains("secretpw"))
    }
}
