/// A variable pattern in a regular-expression subset that matches in linear time.
///
/// Backtracking engines (Swift `Regex`, ICU, PCRE) take exponential time on patterns such as
/// `(a+)+b`. A ``SafePattern`` is compiled to a Thompson NFA and run as a Pike VM: the work per
/// input scalar is bounded by the program size, and a step budget bounds the whole match.
///
/// Supported: literals, `.`, classes (`[a-z]`, `[^...]`, `\d \w \s` and their negations, `\n \t
/// \r \f \v`, `\uXXXX`, `\u{X...}`, `\xXX`, escaped punctuation), groups `( )`, `(?: )`,
/// `(?<name> )`, alternation, `* + ? {n} {n,} {n,m}` (lazy forms too: a whole match does not care)
/// and `^`/`$`. Refused: backreferences, lookaround, word boundaries, inline flags, possessive
/// quantifiers, and a repeated group that itself repeats (a nested quantifier). Matching is over
/// Unicode scalars; `\d`, `\w` and `\s` are ASCII-only.
public struct SafePattern: Sendable {
    /// The longest pattern accepted, in characters.
    public static let maxLength = 512
    /// The most NFA instructions a pattern may compile to (counted repetition expands).
    public static let maxProgram = 40_000
    /// The most VM steps one match may take; beyond it the match fails with an error.
    public static let stepBudget = 8_000_000

    let program: [PatternInstruction]

    /// Parses and compiles `pattern`, or throws a ``SafePatternError`` saying what is not allowed.
    public init(_ pattern: String) throws(SafePatternError) {
        guard pattern.count <= Self.maxLength else { throw SafePatternError("is longer than \(Self.maxLength) characters") }
        var parser = PatternParser(Array(pattern.unicodeScalars))
        let node = try parser.parse()
        program = try PatternCompiler.compile(node, limit: Self.maxProgram)
    }

    /// Whether the whole of `value` matches; throws when the step budget runs out.
    public func wholeMatch(_ value: String) throws(SafePatternError) -> Bool {
        try PikeVM(program: program, budget: Self.stepBudget).wholeMatch(Array(value.unicodeScalars))
    }
}

/// Why a pattern is refused, or why a match was abandoned. Safe to show to a user.
public struct SafePatternError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
