import IceShelvesContracts
import Testing

@testable import IceShelvesBus

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

@Suite("Quorum job queues")
struct QuorumTopologyTests {
    @Test func jobQueuesAreQuorumQueuesWithTheDefaultDeliveryLimit() {
        for name in BusNames.jobQueues {
            let q = BusTopology.workQueue(name).queues[0]
            #expect(q.deliveryLimit == BusNames.defaultDeliveryLimit, "\(name)")
            #expect(q.declareArguments["x-queue-type"] == .string("quorum"))
            #expect(q.declareArguments["x-delivery-limit"] == .int(Int64(BusNames.defaultDeliveryLimit)))
            #expect(q.declareArguments["x-dead-letter-exchange"] == .string(BusNames.deadLetterExchange))
            #expect(q.declareArguments["x-dead-letter-routing-key"] == .string(name))
            #expect(q.declareArguments["x-dead-letter-strategy"] == .string("at-least-once"))
        }
        #expect(Set(BusNames.jobQueues) == ["deploy.render", "deploy.lxd", "deploy.kvm", "deploy.agent"])
    }

    /// A cluster that loses a node keeps every durable queue: they are all quorum queues (without
    /// a delivery limit where they are not job queues), their dead-letter queues too.
    @Test func everyOtherDurableQueueIsAQuorumQueueWithoutALimit() {
        let durable =
            BusTopology.workQueue(BusNames.gatewayEventsQueue).queues + RPCServer.topology(queue: "rpc.x").queues
            + [BusTopology.workQueue("deploy.lxd").queues[0].deadLetterQueue]
        for q in durable {
            #expect(q.quorum, "\(q.name)")
            #expect(q.deliveryLimit == nil)
            #expect(q.declareArguments["x-queue-type"] == .string("quorum"))
            #expect(q.declareArguments["x-delivery-limit"] == nil)
        }
        #expect(BusTopology.workQueue("deploy.lxd").queues[0].deadLetterQueue.name == "deploy.lxd.dlq")
        for q in durable { #expect(q.declareArguments["x-dead-letter-strategy"] == nil, "only jobs need at-least-once: \(q.name)") }
    }

    @Test func exclusiveAndTransientQueuesStayClassic() {
        let queues =
            BusTopology.eventListener("l", binding: "#").queues + RPCServer.instanceTopology(queue: "upload.x").queues
            + [BusTopology.Queue(name: "transient", durable: false)]
        for q in queues {
            #expect(!q.quorum, "\(q.name)")
            #expect(q.declareArguments["x-queue-type"] == nil)
        }
        #expect(BusTopology.Queue(name: "old", quorum: false).declareArguments["x-queue-type"] == nil)
    }

    @Test func aClientsDeliveryLimitReplacesOnlyQuorumLimits() {
        let t = BusTopology.workQueue("deploy.lxd").merging(.workQueue("other")).withDeliveryLimit(2)
        #expect(t.queues.map(\.deliveryLimit) == [2, nil])
        #expect(BusTopology.workQueue("deploy.lxd").withDeliveryLimit(nil) == .workQueue("deploy.lxd"))
        #expect(BusTopology.workQueue("deploy.lxd") != BusTopology.workQueue("deploy.lxd").withDeliveryLimit(2))
    }

    @Test func anInequivalentQueueSaysWhatToDo() {
        let q = BusTopology.workQueue("deploy.lxd").queues[0]
        let text = AMQPConnection.inequivalentAdvice(
            q,
            "queue.declare deploy.lxd: 406 PRECONDITION_FAILED - inequivalent arg"
        )
        #expect(text.contains("406 PRECONDITION_FAILED"))
        #expect(text.contains("rabbitmqctl delete_queue -p <vhost> deploy.lxd"))
        #expect(text.contains("quorum queue with x-delivery-limit 5"))
    }
}
