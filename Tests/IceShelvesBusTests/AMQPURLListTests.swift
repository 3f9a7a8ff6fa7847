import IceShelvesBus
import Testing

@Suite("AMQP URL lists (cluster nodes)")
struct AMQPURLListTests {
    @Test func oneURLIsAListOfOneParsedAsBefore() throws {
        for text in [
            "amqp://alice:s%40cret@broker.local:5673/prod%2Fone", "amqps://u:p@broker.example/v?cacertfile=%2Fetc%2Fca.pem", "amqp://127.0.0.1",
        ] {
            #expect(try AMQPURL.list(parsing: text) == [try AMQPURL(parsing: text)])
        }
    }

    @Test func nodesComeInTheOrderGiven() throws {
        let urls = try AMQPURL.list(parsing: "amqp://svc:pw@node1:5672/v, amqp://svc:pw@node2:5673/v,amqps://svc:pw@node3/v")
        #expect(urls.map(\.host) == ["node1", "node2", "node3"])
        #expect(urls.map(\.port) == [5672, 5673, 5671])
        #expect(urls.map(\.tls) == [false, false, true])
        #expect(urls.allSatisfy { $0.user == "svc" && $0.password == "pw" && $0.vhost == "v" })
    }

    @Test func aCommaInsideAPasswordDoesNotSplit() throws {
        #expect(try AMQPURL.list(parsing: "amqp://svc:a,b@node1/") == [AMQPURL(host: "node1", port: 5672, user: "svc", password: "a,b", vhost: "/")])
        let two = try AMQPURL.list(parsing: "amqp://svc:a,b@node1/,amqp://svc:a,b@node2/")
        #expect(two.map(\.password) == ["a,b", "a,b"])
        #expect(two.map(\.host) == ["node1", "node2"])
    }

    @Test(arguments: [
        "",
        "node1,node2",
        "amqp://u:p@node1/,http://node2/",
        "amqp://u:p@node1/v,amqp://other:p@node2/v",
        "amqp://u:p@node1/v,amqp://u:p@node2/w",
        "amqp://u:secret@node1/,amqp://u:secret@node2:notaport/",
    ])
    func refusesBadLists(_ text: String) {
        let error = #expect(throws: AMQPError.self) { try AMQPURL.list(parsing: text) }
        #expect(error?.kind == .invalidURL)
        #expect(error?.message.contains("secret") == false, "\(error?.message ?? "")")
    }

    @Test func anErrorNamesWhichURLIsWrong() {
        let error = #expect(throws: AMQPError.self) { try AMQPURL.list(parsing: "amqp://u:p@node1/,amqp://u:p@node2:0/,amqp://u:p@node3/") }
        #expect(error?.message.contains("URL 2 of 3") == true, "\(error?.message ?? "")")
    }
}
