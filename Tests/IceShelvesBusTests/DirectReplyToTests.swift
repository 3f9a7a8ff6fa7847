import Testing

@testable import IceShelvesBus

@Suite("Direct reply-to addresses")
struct DirectReplyToTests {
    @Test func theBrokersOwnShapeIsAccepted() {
        // As RabbitMQ 3.10.8 wrote one (its log).
        #expect(DirectReplyTo.isWellFormed("amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjc4NDAyMAAABDMAAAAAaw5B6w==.qd1Jemf3gjAYgYVQyMe5aw=="))
        // The node as SMALL_ATOM_UTF8_EXT (an 8-bit length), as newer Erlang writes atoms.
        #expect(DirectReplyTo.isWellFormed("amq.rabbitmq.reply-to.g1h3DnJlcGx5QDEyNzg0MDIwAAAAAAAAAAAAAAAA.qd1Jemf3gjAYgYVQyMe5aw=="))
    }

    @Test(arguments: [
        "amq.rabbitmq.reply-to.bm90LWEtcGlk.bad",  // crashed the broker's channel: 541 on the connection
        "amq.rabbitmq.reply-to.g1hzAA5yZXBseUAxMjc4NDAyMAAAAAAAAAAAAAAAAA==.qd1Jemf3gjAYgYVQyMe5aw==",  // an atom encoding that is not one
        "amq.rabbitmq.reply-to.",
        "amq.rabbitmq.reply-to",
        "deploy.lxd",  // a queue: never reply into one
        "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjc4NDAyMAAABDMAAAAAaw5B6w==",  // no key
        "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjc4NDAyMAAABDMAAAAAaw5B.qd1Jemf3gjAYgYVQyMe5aw==",  // cut short
        "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjc4NDAyMAAABDMAAAAAaw5B6w==.qd1J.emf3",  // three parts
        "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjc4NDAyMAAABDMAAAAAaw5B6w==.qd1Jemf3gjAYgYVQyMe5aw=!",
        // A well-formed pid on a node that is not the broker's reply@<hash>: x@169.254.169.254.
        "amq.rabbitmq.reply-to.g1h2ABF4QDE2OS4yNTQuMTY5LjI1NAAAAAAAAAAAAAAAAA==.qd1Jemf3gjAYgYVQyMe5aw==",
    ])
    func anythingElseIsRefused(_ address: String) {
        #expect(!DirectReplyTo.isWellFormed(address))
    }
}
