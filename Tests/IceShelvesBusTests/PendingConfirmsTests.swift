import Testing

@testable import IceShelvesBus

@Suite("Pending confirms")
struct PendingConfirmsTests {
    private static let noop: PendingConfirms.Done = { _ in }

    @Test func aMultipleConfirmSettlesThePrefixInOrder() {
        var p = PendingConfirms()
        for seq in 1...5 { p.add(UInt64(seq), Self.noop) }
        #expect(p.settle(3, multiple: true).map(\.seq) == [1, 2, 3])
        #expect(p.count == 2)
        #expect(p.settle(3, multiple: true).isEmpty)
        #expect(p.settle(5, multiple: true).map(\.seq) == [4, 5])
        #expect(p.isEmpty)
    }

    @Test func singleConfirmsMaySettleOutOfOrder() {
        var p = PendingConfirms()
        for seq in [2, 4, 6, 8] { p.add(UInt64(seq), Self.noop) }
        #expect(p.settle(6, multiple: false).map(\.seq) == [6])
        #expect(p.settle(6, multiple: false).isEmpty)
        #expect(p.settle(5, multiple: false).isEmpty)  // never published with a confirm
        #expect(p.settle(2, multiple: false).map(\.seq) == [2])
        #expect(p.settle(8, multiple: true).map(\.seq) == [4, 8])
        #expect(p.isEmpty)
    }

    @Test func removeAllReturnsOnlyWhatStillWaits() {
        var p = PendingConfirms()
        for seq in 1...4 { p.add(UInt64(seq), Self.noop) }
        _ = p.settle(3, multiple: false)
        #expect(p.removeAll().count == 3)
        #expect(p.isEmpty)
        p.add(1, Self.noop)  // a new connection numbers from 1 again
        #expect(p.settle(1, multiple: true).map(\.seq) == [1])
    }

    @Test func manyConfirmsCompactWithoutLosingAny() {
        var p = PendingConfirms()
        var settled = 0
        for seq in 1...10_000 {
            p.add(UInt64(seq), Self.noop)
            if seq % 100 == 0 { settled += p.settle(UInt64(seq - 50), multiple: true).count }
        }
        settled += p.settle(10_000, multiple: true).count
        #expect(settled == 10_000)
        #expect(p.isEmpty)
    }
}
