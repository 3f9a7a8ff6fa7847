import IceShelvesContracts
import IceShelvesEggs
import Testing

@Suite("Variable patterns in linear time")
struct SafePatternTests {
    func matches(_ pattern: String, _ value: String) throws -> Bool { try SafePattern(pattern).wholeMatch(value) }

    @Test(arguments: [
        ("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", "web-1", true),
        ("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", "web-", false),
        ("[A-Za-z0-9_+/-]{1,64}", "a+b/c-d_e", true),
        (
            "(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{16,8192}( [^\\n]{0,256})?", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host",
            true
        ),
        ("(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{16,8192}( [^\\n]{0,256})?", "ssh-dss AAAAC3NzaC1lZDI1NTE5", false),
        ("^\\d{3}-\\w+$", "123-abc_9", true),
        ("a.c", "a\nc", false),
        ("[^\\s]+", "no-space", true),
        ("[\\S]+", "has space", false),
        ("\\u00e9t\\u{e9}", "été", true),
        ("(?:ab|cd)*", "abcdab", true),
        ("(?<word>x)y", "xy", true),
        ("a{2,3}?", "aaa", true),
        ("", "", true),
    ])
    func knownPatternsMatch(_ pattern: String, _ value: String, _ expected: Bool) throws {
        #expect(try matches(pattern, value) == expected)
    }

    @Test(arguments: [
        ("(a+)+b", "nested quantifier"),
        ("(a*)*", "nested quantifier"),
        ("(?:x{2,}y)+", "nested quantifier") as (String, String),
        ("(x+y?){3}", "nested quantifier"),
        ("(a)\\1", "backreference"),
        ("(?<n>a)\\k<n>", "backreference"),
        ("a(?=b)", "lookaround"),
        ("\\bword", "boundary"),
        ("a++", "possessive"),
        ("(", "unclosed '('"),
        ("*a", "nothing to repeat"),
        ("a{5,2}", "m < n"),
        ("[z-a]", "out of order"),
    ])
    func dangerousOrUnsupportedPatternsAreRefused(_ pattern: String, _ reason: String) {
        #expect(throws: SafePatternError.self) { try SafePattern(pattern) }
        do { _ = try SafePattern(pattern) } catch { #expect(error.reason.contains(reason), "got: \(error.reason)") }
    }

    @Test func aHugeExpansionIsRefused() {
        #expect(throws: SafePatternError.self) { try SafePattern("[a-z]{10000}[0-9]{10000}(x|y){10000}[ab]{10000}c{10000}") }
    }

    /// Regression: `(a+)+b` with 31 characters kept the renderer at 100 % CPU. It is refused at
    /// upload, and an egg stored before that is answered at once.
    @Test func theReDoSCaseAnswersInMilliseconds() {
        let variable = EggVariable(name: "v", pattern: "(a+)+b")
        let started = ContinuousClock.now
        let problem = VariableResolver.problem(with: .string(String(repeating: "a", count: 31)), for: variable)
        #expect(ContinuousClock.now - started < .milliseconds(100))
        #expect(problem?.contains("nested quantifier") == true, "got: \(problem ?? "accepted")")
    }

    @Test func theWorstAllowedPatternStaysFast() throws {
        // Many overlapping alternatives over the longest value a variable may have.
        let pattern = try SafePattern("(a|a?|[a-z]|\\w){0,200}[a-z]*b")
        let started = ContinuousClock.now
        _ = try? pattern.wholeMatch(String(repeating: "a", count: 16_384))
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
