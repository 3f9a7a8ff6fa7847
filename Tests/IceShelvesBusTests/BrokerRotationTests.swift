import Testing

@testable import IceShelvesBus

@Suite("Broker rotation")
struct BrokerRotationTests {
    let nodes = ["node1", "node2", "node3"].map { AMQPURL(host: $0, port: 5672, user: "u", password: "p", vhost: "/") }

    @Test func startsWithTheFirstAndTakesEachInTurnThenStartsOver() {
        var rotation = BrokerRotation(nodes)
        var seen: [String] = []
        for _ in 0..<7 {
            seen.append(rotation.current.host)
            rotation.advance()
        }
        #expect(seen == ["node1", "node2", "node3", "node1", "node2", "node3", "node1"])
    }

    @Test func oneBrokerIsAlwaysTheOne() {
        var rotation = BrokerRotation([nodes[1]])
        for _ in 0..<3 {
            rotation.advance()
            #expect(rotation.current == nodes[1])
        }
    }

    @Test func theClientConfigurationKeepsItsURLs() {
        let many = AMQPClient.Configuration(urls: nodes, name: "t")
        #expect(many.urls == nodes)
        #expect(many.url == nodes[0])
        var one = AMQPClient.Configuration(url: nodes[2], name: "t")
        #expect(one.urls == [nodes[2]])
        one.url = nodes[0]
        #expect(one.urls == [nodes[0]])
    }
}
