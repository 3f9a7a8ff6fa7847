import Testing

@testable import IceShelvesBus

@Suite("Handled messages (one worker's book)")
struct HandledMessagesTests {
    let key = HandledMessages.Key(messageId: "m-1", attempts: 0)

    @Test func aCopyWaitsForTheRunningHandlingThenIsSettled() async {
        let book = HandledMessages()
        #expect(await book.admit(key, generation: 1, redelivered: false) == .handle)
        let copy = Task { await book.admit(key, generation: 2, redelivered: true) }
        try? await Task.sleep(for: .milliseconds(100))
        book.finish(key, generation: 1, settled: true)
        #expect(await copy.value == .alreadySettled)
    }

    @Test func aRetryCopyAMessageRequeuedAndOneOnTheSameConnectionAreHandled() async {
        let book = HandledMessages()
        #expect(await book.admit(key, generation: 1, redelivered: false) == .handle)
        book.finish(key, generation: 1, settled: true)
        // The worker's retry copy has a higher attempt count.
        let retry = HandledMessages.Key(messageId: "m-1", attempts: 1)
        #expect(await book.admit(retry, generation: 2, redelivered: false) == .handle)
        book.finish(retry, generation: 2, settled: false)
        // Requeued as it was (a shutdown): its copy must run.
        #expect(await book.admit(retry, generation: 3, redelivered: true) == .handle)
        book.finish(retry, generation: 3, settled: true)
        // Settled on this very connection, so its ack went out: a new delivery is another message.
        #expect(await book.admit(retry, generation: 3, redelivered: true) == .handle)
    }

    @Test func theOldestSettledMessageIsForgottenFirst() async {
        let book = HandledMessages(memory: 2)
        let keys = (0..<3).map { HandledMessages.Key(messageId: "m-\($0)", attempts: 0) }
        for k in keys {
            #expect(await book.admit(k, generation: 1, redelivered: false) == .handle)
            book.finish(k, generation: 1, settled: true)
        }
        #expect(await book.admit(keys[0], generation: 2, redelivered: true) == .handle)
        #expect(await book.admit(keys[2], generation: 2, redelivered: true) == .alreadySettled)
    }
}
