import IceShelvesContracts
import Testing

@testable import IceShelvesBus

@Suite("A consumer's dead letter")
struct DeadLetterPropertiesTests {
    @Test func forgedBrokerDeathHeadersAreDroppedAndTheConsumersReasonWins() {
        let forged = MessageProperties(
            messageId: "m-1",
            headers: [
                "x-first-death-reason": .string("delivery_limit"), "x-death": .string("forged"),
                BusNames.deadReasonHeader: .string("an innocent crash"), "x-custom": .string("kept"),
            ]
        )
        let dead = QueueWorker<DeploymentRendered>.deadLetterProperties(
            forged,
            reason: "not a trusted publisher: 'x' may not send jobs to deploy.lxd"
        )
        #expect(dead.headers["x-first-death-reason"] == nil && dead.headers["x-death"] == nil)
        #expect(dead.headers[BusNames.deadReasonHeader] == .string("not a trusted publisher: 'x' may not send jobs to deploy.lxd"))
        #expect(dead.headers["x-custom"] == .string("kept") && dead.messageId == "m-1")
    }
}
