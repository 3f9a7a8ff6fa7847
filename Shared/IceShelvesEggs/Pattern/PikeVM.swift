/// One instruction of a compiled ``SafePattern``.
enum PatternInstruction: Sendable {
    case scalar(ScalarSet)
    case split(Int, Int)
    case jump(Int)
    case start
    case end
    case match
}

/// Compiles a ``PatternNode`` to ``PatternInstruction``s, bounded by `limit`.
enum PatternCompiler {
    static func compile(_ node: PatternNode, limit: Int) throws(SafePatternError) -> [PatternInstruction] {
        var program: [PatternInstruction] = []
        try emit(node, into: &program, limit: limit)
        program.append(.match)
        return program
    }

    private static func emit(_ node: PatternNode, into p: inout [PatternInstruction], limit: Int) throws(SafePatternError) {
        guard p.count < limit else { throw SafePatternError("is too large once its counted repetitions are expanded") }
        switch node {
        case .empty: break
        case .set(let set): p.append(.scalar(set))
        case .start: p.append(.start)
        case .end: p.append(.end)
        case .concat(let nodes):
            for n in nodes { try emit(n, into: &p, limit: limit) }
        case .alternation(let nodes):
            var jumps: [Int] = []
            for (k, n) in nodes.enumerated() {
                if k < nodes.count - 1 {
                    let split = p.count
                    p.append(.split(split + 1, -1))
                    try emit(n, into: &p, limit: limit)
                    jumps.append(p.count)
                    p.append(.jump(-1))
                    p[split] = .split(split + 1, p.count)
                } else {
                    try emit(n, into: &p, limit: limit)
                }
            }
            for j in jumps { p[j] = .jump(p.count) }
        case .repetition(let n, let min, let max):
            for _ in 0..<min { try emit(n, into: &p, limit: limit) }
            if let max {
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(p.count)
                    p.append(.split(p.count + 1, -1))
                    try emit(n, into: &p, limit: limit)
                }
                for s in splits { p[s] = .split(s + 1, p.count) }
            } else {
                let loop = p.count
                p.append(.split(loop + 1, -1))
                try emit(n, into: &p, limit: limit)
                p.append(.jump(loop))
                p[loop] = .split(loop + 1, p.count)
            }
        }
    }
}

/// Runs a program over the input as a set of threads, one per instruction at most, so the time is
/// linear in the input (times the program size) and never exponential.
struct PikeVM {
    let program: [PatternInstruction]
    let budget: Int

    func wholeMatch(_ input: [Unicode.Scalar]) throws(SafePatternError) -> Bool {
        var steps = 0
        var current: [Int] = []
        var next: [Int] = []
        var mark = [Int](repeating: -1, count: program.count)
        var stack: [Int] = []

        func add(_ pc: Int, at pos: Int, to list: inout [Int]) throws(SafePatternError) {
            stack.append(pc)
            while let pc = stack.popLast() {
                steps += 1
                if steps > budget { throw SafePatternError("took too long to match (more than \(budget) steps)") }
                guard mark[pc] != pos else { continue }
                mark[pc] = pos
                switch program[pc] {
                case .jump(let t): stack.append(t)
                case .split(let a, let b):
                    stack.append(b)
                    stack.append(a)
                case .start: if pos == 0 { stack.append(pc + 1) }
                case .end: if pos == input.count { stack.append(pc + 1) }
                case .scalar, .match: list.append(pc)
                }
            }
        }

        try add(0, at: 0, to: &current)
        for (pos, scalar) in input.enumerated() {
            next.removeAll(keepingCapacity: true)
            for pc in current {
                steps += 1
                if case .scalar(let set) = program[pc], set.contains(scalar) { try add(pc + 1, at: pos + 1, to: &next) }
            }
            if next.isEmpty { return false }
            swap(&current, &next)
        }
        return current.contains { if case .match = program[$0] { true } else { false } }
    }
}
