import Testing

@testable import IceShelvesBus

@Suite("Ack coalescing")
struct AckCoalescerTests {
    @Test func inOrderAcksBecomeOneMultipleAck() {
        var c = AckCoalescer()
        for t in 1...5 { c.delivered(UInt64(t)) }
        let frames = c.acks([1, 2, 3])
        #expect(frames.multipleUpTo == 3)
        #expect(frames.singles.isEmpty)
    }

    @Test func aSlowMessageIsNeverCoveredByAMultipleAck() {
        var c = AckCoalescer()
        for t in 1...5 { c.delivered(UInt64(t)) }
        // 2 is still being handled: 3 and 4 must go out alone, and nothing may cover 2.
        let first = c.acks([1, 3, 4])
        #expect(first.multipleUpTo == 1)
        #expect(first.singles == [3, 4])
        // When 2 finishes, the prefix moves past the already-acked 3 and 4, but the frame must
        // name 2: the broker refuses a multiple ack whose own tag is already acked.
        let second = c.acks([2])
        #expect(second.multipleUpTo == 2)
        #expect(second.singles.isEmpty)
        let third = c.acks([5])
        #expect(third.multipleUpTo == 5)
    }

    @Test func theMultipleAckAlwaysNamesATagOfTheBatch() {
        var c = AckCoalescer()
        for t in 1...6 { c.delivered(UInt64(t)) }
        _ = c.acks([2, 5, 6])
        let frames = c.acks([1, 3, 4])
        #expect(frames.multipleUpTo == 4)
        #expect(frames.singles.isEmpty)
    }

    @Test func rejectedDeliveriesDoNotBlockThePrefix() {
        var c = AckCoalescer()
        for t in 1...3 { c.delivered(UInt64(t)) }
        c.rejected(1)
        let frames = c.acks([2, 3])
        #expect(frames.multipleUpTo == 3)
        #expect(frames.singles.isEmpty)
    }

    @Test func manyDeliveriesCompactWithoutLosingOrder() {
        var c = AckCoalescer()
        for t in 1...10_000 { c.delivered(UInt64(t)) }
        for start in stride(from: 1, through: 9_901, by: 100) {
            let frames = c.acks((start..<start + 100).map(UInt64.init))
            #expect(frames.multipleUpTo == UInt64(start + 99))
        }
        c.delivered(10_001)
        #expect(c.acks([10_001]).multipleUpTo == 10_001)
    }
}
