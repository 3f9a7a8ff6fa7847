import ArgumentParser
import IceShelvesSettings
import Testing

@Suite("Environment settings")
struct EnvironmentTests {
    @Test func flagThenEnvironmentThenDefault() throws {
        let env = Environment(["N": "7", "EMPTY": ""])
        #expect(try env.integer(3, flagName: "--n", key: "N", default: 1, in: 0...10) == 3)
        #expect(try env.integer(nil, flagName: "--n", key: "N", default: 1, in: 0...10) == 7)
        #expect(try env.integer(nil, flagName: "--n", key: "EMPTY", default: 1, in: 0...10) == 1, "an empty variable counts as unset")
        #expect(env.value("MISSING") == nil)
    }

    @Test func badValuesNameTheFlagAndTheVariable() {
        let env = Environment(["N": "many", "BIG": "99"])
        #expect(throws: ValidationError.self) { try env.integer(nil, flagName: "--n", key: "N", default: 1, in: 0...10) }
        do {
            _ = try env.integer(nil, flagName: "--n", key: "BIG", default: 1, in: 0...10)
            Issue.record("accepted a value out of range")
        } catch {
            #expect("\(error)".contains("--n / BIG"))
        }
    }
}
