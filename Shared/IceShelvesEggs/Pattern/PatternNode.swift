/// A set of Unicode scalars: ranges, complements of ranges (`\S` inside a class), maybe negated.
struct ScalarSet: Sendable, Equatable {
    var ranges: [ClosedRange<UInt32>] = []
    var complements: [[ClosedRange<UInt32>]] = []
    var negated = false

    func contains(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        let hit = ranges.contains { $0.contains(v) } || complements.contains { set in !set.contains { $0.contains(v) } }
        return hit != negated
    }

    static func scalar(_ s: Unicode.Scalar) -> ScalarSet { ScalarSet(ranges: [s.value...s.value]) }
    static let anyButNewline = ScalarSet(ranges: [10...10], negated: true)
    static let digit: [ClosedRange<UInt32>] = [48...57]
    static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
    static let space: [ClosedRange<UInt32>] = [9...13, 32...32]
}

/// The parsed form of a ``SafePattern``.
indirect enum PatternNode: Sendable {
    case empty
    case set(ScalarSet)
    case concat([PatternNode])
    case alternation([PatternNode])
    case repetition(PatternNode, min: Int, max: Int?)
    case start
    case end

    /// Whether the node contains a quantifier that can repeat (`*`, `+`, `{n,m}` with m > 1).
    var repeats: Bool {
        switch self {
        case .empty, .set, .start, .end: false
        case .concat(let nodes), .alternation(let nodes): nodes.contains { $0.repeats }
        case .repetition(let node, _, let max): max.map { $0 > 1 } ?? true || node.repeats
        }
    }
}
