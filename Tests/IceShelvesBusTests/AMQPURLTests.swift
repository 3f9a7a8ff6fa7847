import IceShelvesBus
import Testing

@Suite("AMQP URL")
struct AMQPURLTests {
    @Test func parsesEveryPart() throws {
        let url = try AMQPURL(parsing: "amqp://alice:s%40cret@broker.local:5673/prod%2Fone")
        #expect(url == AMQPURL(host: "broker.local", port: 5673, user: "alice", password: "s@cret", vhost: "prod/one"))
    }

    @Test func defaultsMatchTheDocumentedDefault() throws {
        #expect(try AMQPURL(parsing: "amqp://guest:guest@127.0.0.1:5672/") == .default)
        #expect(try AMQPURL(parsing: "amqp://127.0.0.1") == .default)
    }

    @Test func ipv6Host() throws {
        let url = try AMQPURL(parsing: "amqp://u:p@[::1]:5999/")
        #expect(url.host == "::1")
        #expect(url.port == 5999)
    }

    @Test(arguments: ["http://x", "amqp://", "amqp://h:0/", "amqp://h:99999/", "amqp://h:abc/", "amqp://u:%zz@h/", "amqp://[::1/"])
    func refusesBadURLs(_ text: String) {
        #expect(throws: AMQPError.self) { try AMQPURL(parsing: text) }
    }

    @Test func redactedHidesThePassword() throws {
        let url = try AMQPURL(parsing: "amqp://alice:topsecret@h:5672/")
        #expect(!url.redacted.contains("topsecret"))
        #expect(url.redacted.contains("alice"))
    }

    @Test func errorsNeverEchoThePassword() {
        do {
            _ = try AMQPURL(parsing: "amqp://alice:topsecret@h:notaport/")
            Issue.record("parsed a bad port")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
        }
    }
}

@Suite("AMQPS URL")
struct AMQPSURLTests {
    @Test func amqpsDefaultsToPort5671AndTakesACAFile() throws {
        let url = try AMQPURL(parsing: "amqps://u:p@broker.example/v?cacertfile=%2Fetc%2Fca.pem")
        #expect(url.tls && url.port == 5671 && url.vhost == "v" && url.caFile == "/etc/ca.pem")
        #expect(url.redacted.hasPrefix("amqps://u:***@"))
        #expect(try !AMQPURL(parsing: "amqp://h/").tls)
    }

    @Test(arguments: ["amqp://h/?cacertfile=/x", "amqps://h/?verify=none", "amqps://h/?cacertfile"])
    func refusesUnknownQueryParameters(_ text: String) {
        #expect(throws: AMQPError.self) { try AMQPURL(parsing: text) }
    }
}
