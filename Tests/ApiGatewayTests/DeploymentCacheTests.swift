import NIOCore
import Testing

@testable import ApiGateway

@Suite("Deployment answers cache")
struct DeploymentCacheTests {
    @Test func anAnswerReadBeforeAnEventIsNeverStored() {
        let cache = DeploymentCache()
        cache.store("d", ticket: cache.ticket(), body: ByteBuffer(string: "two"))
        #expect(cache.body("d").map { String(buffer: $0) } == "two")
        let slowRead = cache.ticket()  // a read begins…
        cache.advance("d")  // …an event is recorded…
        #expect(cache.body("d") == nil, "a recorded event drops the answer")
        cache.store("d", ticket: slowRead, body: ByteBuffer(string: "stale"))  // …and the read ends
        #expect(cache.body("d") == nil, "a read from before the event is not kept")
        cache.store("d", ticket: cache.ticket(), body: ByteBuffer(string: "three"))
        #expect(cache.body("d").map { String(buffer: $0) } == "three")
    }

    @Test func evictionAndClearNeverLetAnOldReadIn() {
        let cache = DeploymentCache(capacity: 2)
        let early = cache.ticket()
        cache.advance("d")
        for i in 0..<5 { cache.store("x\(i)", ticket: cache.ticket(), body: ByteBuffer(string: "x")) }  // evicts
        cache.store("d", ticket: early, body: ByteBuffer(string: "stale"))
        #expect(cache.body("d") == nil)
        let beforeClear = cache.ticket()
        cache.clear()
        cache.store("d", ticket: beforeClear, body: ByteBuffer(string: "stale"))
        #expect(cache.body("d") == nil)
    }

    @Test func answersExpire() async throws {
        let cache = DeploymentCache(ttl: .milliseconds(20))
        cache.store("d", ticket: cache.ticket(), body: ByteBuffer(string: "one"))
        try await Task.sleep(for: .milliseconds(40))
        #expect(cache.body("d") == nil)
    }
}
