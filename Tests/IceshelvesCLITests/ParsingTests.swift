import Foundation
import IceShelvesContracts
import IceShelvesSettings
import Testing

@testable import IceshelvesCLI

@Suite("Parsing arguments, config and streams")
struct ParsingTests {
    @Test func warmPoolSpecsCarryMemberAndProfiles() throws {
        #expect(
            try ClusterCommand.WarmPools.parse("iceshelves/debian-12=2") == .object(["image": .string("iceshelves/debian-12"), "size": .number(2)])
        )
        #expect(
            try ClusterCommand.WarmPools.parse("iceshelves/busybox=1@node2 profiles=default,web")
                == .object([
                    "image": .string("iceshelves/busybox"), "size": .number(1), "member": .string("node2"),
                    "profiles": .array([.string("default"), .string("web")]),
                ])
        )
        for bad in ["x", "x=two", "x=1 y", "x=1 profiles=a extra"] {
            #expect(throws: (any Error).self, "\(bad)") { try ClusterCommand.WarmPools.parse(bad) }
        }
    }

    @Test func durationsReadLikeKubectl() {
        #expect(WaitDuration(argument: "90")?.seconds == 90)
        #expect(WaitDuration(argument: "90s")?.seconds == 90)
        #expect(WaitDuration(argument: "5m")?.seconds == 300)
        #expect(WaitDuration(argument: "1h30m")?.seconds == 5400)
        for bad in ["", "0", "5x", "m", "-3s", "10s5"] { #expect(WaitDuration(argument: bad) == nil, "\(bad)") }
    }

    @Test func variablesAreTypedByTheEgg() throws {
        let egg: JSONValue = .object([
            "metadata_json": .string(#"{"variables":[{"name":"port","type":"integer"},{"name":"tls","type":"boolean"},{"name":"pk","type":"list"}]}"#)
        ])
        let types = VariableAssignment.declaredTypes(in: egg)
        #expect(try VariableAssignment.parse("port=80").value(as: types["port"]) == .integer(80))
        #expect(try VariableAssignment.parse("tls=yes").value(as: types["tls"]) == .boolean(true))
        #expect(try VariableAssignment.parse("pk=a,b").value(as: types["pk"]) == .list(["a", "b"]))
        #expect(try VariableAssignment.parse("greeting=a=b").value(as: types["greeting"]) == .string("a=b"))
        #expect(throws: CLIError.self) { try VariableAssignment.parse("port=eighty").value(as: "integer") }
        #expect(throws: CLIError.self) { try VariableAssignment.parse("=x") }
        #expect(throws: CLIError.self) { try VariableAssignment.parse("novalue") }
    }

    @Test func sseEventsSurviveAnyChunking() {
        let text = ": connected\n\nid: 1\nevent: deployment\ndata: {\"a\":1}\n\nid: 2\r\ndata: x\r\ndata: y\r\n\r\n"
        for size in [1, 2, 5, 100] {
            var parser = SSEParser()
            var events: [SSEEvent] = []
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                events += parser.feed(bytes.prefix(size))
                bytes = bytes.dropFirst(size)
            }
            #expect(events == [SSEEvent(id: "1", event: "deployment", data: "{\"a\":1}"), SSEEvent(id: "2", event: nil, data: "x\ny")])
        }
    }

    @Test func theConfigFileIsWrittenOwnerOnlyAndLosesToFlagsAndEnv() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/iceshelves/config.json"
        try ConfigFile(url: "http://gw:8000/iceshelves", apiKey: "isk_a_b").save(to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let config = try #require(try ConfigFile.load(from: path))
        var options = try GatewayOptions.parse([])
        #expect(try options.resolvedURL(in: Environment([:]), config: config) == "http://gw:8000/iceshelves")
        #expect(try options.resolvedKey(in: Environment([:]), config: config) == "isk_a_b")
        #expect(try options.resolvedKey(in: Environment(["ICESHELVES_API_KEY": "isk_env"]), config: config) == "isk_env")
        options = try GatewayOptions.parse(["--url", "https://other/iceshelves/", "--api-key", "isk_flag"])
        #expect(try options.resolvedURL(in: Environment(["ICESHELVES_URL": "http://env"]), config: config) == "https://other/iceshelves")
        #expect(try options.resolvedKey(in: Environment(["ICESHELVES_API_KEY": "isk_env"]), config: config) == "isk_flag")
        chmod(path, 0o644)
        #expect(throws: CLIError.self) { try ConfigFile.load(from: path) }
        #expect(ConfigFile.path(env: ["ICESHELVES_CONFIG": "/x/c.json"]) == "/x/c.json")
        #expect(ConfigFile.path(env: ["HOME": "/home/u"]) == "/home/u/.config/iceshelves/config.json")
    }

    @Test func errorsAreOneLineWithTheAPIMessage() {
        let e = GatewayClient.failure(status: 404, body: Data(#"{"success":false,"error":"no egg\nnope","code":404}"#.utf8))
        #expect(e.description == "the gateway answered 404: no egg nope")
        #expect(GatewayClient.failure(status: 502, body: Data("<html>".utf8)).description == "the gateway answered 502: HTTP 502")
        #expect(GatewayClient.failure(status: 401, body: Data()).description.contains("iceshelves login"))
    }
}
