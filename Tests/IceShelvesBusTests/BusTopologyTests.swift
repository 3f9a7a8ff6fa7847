import IceShelvesBus
import IceShelvesContracts
import Testing

@Suite("Topology")
struct BusTopologyTests {
    @Test func mergingDoesNotRepeatDeclarations() {
        let a = BusTopology.workQueue("jobs")
        let merged = a.merging(.workQueue("jobs")).merging(.workQueue("other"))
        #expect(merged.queues.map(\.name) == ["jobs", "other"])
        #expect(merged.exchanges.map(\.name) == [BusNames.deadLetterExchange, BusNames.eventsExchange])
    }

    @Test func workQueuesDeadLetter() {
        #expect(BusTopology.workQueue("jobs").queues[0].deadLetter)
        #expect(!RPCServer.topology(queue: "rpc.x").queues[0].deadLetter)
    }
}
