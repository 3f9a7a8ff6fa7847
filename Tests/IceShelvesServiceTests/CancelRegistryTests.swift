import IceShelvesService
import Testing

@Suite("Cancel registry")
struct CancelRegistryTests {
    @Test func aCancelBeforeTheJobIsRemembered() {
        let registry = CancelRegistry()
        #expect(!registry.cancel("early"))
        #expect(registry.wasCancelled("early"))
        nonisolated(unsafe) var called = false
        registry.register("running") { called = true }
        #expect(registry.cancel("running"))
        #expect(called)
        #expect(!registry.wasCancelled("running"))
    }
}
