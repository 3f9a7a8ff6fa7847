/// Parses the ``SafePattern`` subset into a ``PatternNode``, refusing what is not in it.
struct PatternParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var depth = 0
    static let maxCount = 10_000

    init(_ scalars: [Unicode.Scalar]) { s = scalars }

    mutating func parse() throws(SafePatternError) -> PatternNode {
        let node = try alternation()
        if i < s.count { throw SafePatternError("has an unmatched ')'") }
        return node
    }

    private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    private mutating func alternation() throws(SafePatternError) -> PatternNode {
        var branches = [try concatenation()]
        while peek == "|" {
            i += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func concatenation() throws(SafePatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let c = peek, c != "|", c != ")" {
            let item = try atom()
            items.append(try quantified(item))
        }
        return items.isEmpty ? .empty : items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func quantified(_ node: PatternNode) throws(SafePatternError) -> PatternNode {
        var min = 0
        var max: Int?
        switch peek {
        case "*": i += 1
        case "+":
            i += 1
            min = 1
        case "?":
            i += 1
            max = 1
        case "{":
            i += 1
            min = try number()
            max = min
            if peek == "," {
                i += 1
                max = peek == "}" ? nil : try number()
            }
            guard peek == "}" else { throw SafePatternError("has a malformed {n,m} quantifier") }
            i += 1
            if let m = max, m < min { throw SafePatternError("has a quantifier {n,m} with m < n") }
        default: return node
        }
        if peek == "?" { i += 1 }  // lazy: the same set of whole matches
        if peek == "+" { throw SafePatternError("uses a possessive quantifier, which is not supported") }
        if let next = peek, "*+?{".unicodeScalars.contains(next) { throw SafePatternError("has a quantifier on a quantifier") }
        switch node {
        case .start, .end, .empty: throw SafePatternError("has a quantifier with nothing to repeat")
        default: break
        }
        if max.map({ $0 > 1 }) ?? true, node.repeats {
            throw SafePatternError("has a nested quantifier (a repeated group that repeats), which can take exponential time")
        }
        return .repetition(node, min: min, max: max)
    }

    private mutating func number() throws(SafePatternError) -> Int {
        var n = 0
        var digits = 0
        while let c = peek, ("0"..."9").contains(c) {
            n = n * 10 + Int(c.value - 48)
            digits += 1
            i += 1
            if n > Self.maxCount { throw SafePatternError("has a repetition count above \(Self.maxCount)") }
        }
        if digits == 0 { throw SafePatternError("has a malformed {n,m} quantifier") }
        return n
    }

    private mutating func atom() throws(SafePatternError) -> PatternNode {
        let c = s[i]
        i += 1
        switch c {
        case "(": return try group()
        case "[": return .set(try characterClass())
        case ".": return .set(.anyButNewline)
        case "^": return .start
        case "$": return .end
        case "\\": return .set(try escape(inClass: false))
        case "*", "+", "?", "{": throw SafePatternError("has a quantifier with nothing to repeat")
        default: return .set(.scalar(c))
        }
    }

    private mutating func group() throws(SafePatternError) -> PatternNode {
        depth += 1
        defer { depth -= 1 }
        if depth > 32 { throw SafePatternError("nests groups deeper than 32") }
        if peek == "?" {
            i += 1
            switch peek {
            case ":": i += 1
            case "<" where i + 1 < s.count && s[i + 1].properties.isAlphabetic:
                while let c = peek, c != ">" { i += 1 }
                i += 1
            default: throw SafePatternError("uses lookaround or inline flags, which are not supported")
            }
        }
        let node = try alternation()
        guard peek == ")" else { throw SafePatternError("has an unclosed '('") }
        i += 1
        return node
    }

    private mutating func characterClass() throws(SafePatternError) -> ScalarSet {
        var set = ScalarSet()
        if peek == "^" {
            set.negated = true
            i += 1
        }
        var first = true
        while true {
            guard let c = peek else { throw SafePatternError("has an unclosed '['") }
            if c == "]" && !first { break }
            first = false
            i += 1
            var low: Unicode.Scalar = c
            if c == "\\" {
                let e = try escape(inClass: true)
                guard e.ranges.count == 1, e.complements.isEmpty, !e.negated, e.ranges[0].count == 1 else {
                    set.ranges += e.negated ? [] : e.ranges
                    if e.negated { set.complements.append(e.ranges) }
                    continue
                }
                low = Unicode.Scalar(e.ranges[0].lowerBound)!
            } else if c == "[" {
                throw SafePatternError("uses nested or POSIX classes, which are not supported")
            }
            if peek == "-", i + 1 < s.count, s[i + 1] != "]" {
                i += 1
                var high = s[i]
                i += 1
                if high == "\\" {
                    let e = try escape(inClass: true)
                    guard e.ranges.count == 1, !e.negated, e.ranges[0].count == 1 else { throw SafePatternError("has a bad range in a class") }
                    high = Unicode.Scalar(e.ranges[0].lowerBound)!
                }
                guard low.value <= high.value else { throw SafePatternError("has a class range out of order") }
                set.ranges.append(low.value...high.value)
            } else {
                set.ranges.append(low.value...low.value)
            }
        }
        i += 1
        return set
    }

    /// The set an escape stands for; `i` is just after the backslash.
    private mutating func escape(inClass: Bool) throws(SafePatternError) -> ScalarSet {
        guard let c = peek else { throw SafePatternError("ends with a lone backslash") }
        i += 1
        switch c {
        case "d": return ScalarSet(ranges: ScalarSet.digit)
        case "D": return ScalarSet(ranges: ScalarSet.digit, negated: true)
        case "w": return ScalarSet(ranges: ScalarSet.word)
        case "W": return ScalarSet(ranges: ScalarSet.word, negated: true)
        case "s": return ScalarSet(ranges: ScalarSet.space)
        case "S": return ScalarSet(ranges: ScalarSet.space, negated: true)
        case "n": return .scalar("\n")
        case "t": return .scalar("\t")
        case "r": return .scalar("\r")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "0": return .scalar("\0")
        case "u", "x": return .scalar(try hexScalar(fixed: c == "u" ? 4 : 2))
        case "1"..."9", "k", "g": throw SafePatternError("uses a backreference, which is not supported")
        case "b", "B", "A", "z", "Z", "G": throw SafePatternError("uses an anchor or boundary escape (\\\(c)), which is not supported")
        default:
            guard c.isASCII, !c.properties.isAlphabetic, !("0"..."9").contains(c) else {
                throw SafePatternError("uses the unsupported escape \\\(c)")
            }
            return .scalar(c)
        }
    }

    private mutating func hexScalar(fixed: Int) throws(SafePatternError) -> Unicode.Scalar {
        var text = ""
        if peek == "{" {
            i += 1
            while let c = peek, c != "}", text.count < 8 {
                text.unicodeScalars.append(c)
                i += 1
            }
            guard peek == "}" else { throw SafePatternError("has a malformed \\u{...} escape") }
            i += 1
        } else {
            for _ in 0..<fixed {
                guard let c = peek else { break }
                text.unicodeScalars.append(c)
                i += 1
            }
        }
        guard let v = UInt32(text, radix: 16), let scalar = Unicode.Scalar(v) else { throw SafePatternError("has a malformed hex escape") }
        return scalar
    }
}
