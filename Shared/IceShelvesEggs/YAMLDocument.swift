import Yams

/// Loads untrusted YAML with limits, so hostile input is a clear error and never a crash or a
/// memory blow-up: size, flow nesting, alias count, total node count and depth are bounded.
public enum YAMLDocument {
    public static let maxBytes = 2 * 1024 * 1024
    public static let maxDepth = 64
    public static let maxAliases = 16
    public static let maxNodes = 200_000

    /// Parses `text` into a node tree, or throws an ``EggError`` naming `file`.
    public static func load(_ text: String, file: String) throws -> Node? {
        guard text.utf8.count <= maxBytes else { throw EggError(file, "larger than \(maxBytes / 1024 / 1024) MiB") }
        try prescan(text, file: file)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw EggError(file, "not valid YAML: \(describe(error))")
        } catch {
            throw EggError(file, "not valid YAML")
        }
        if let node { try checkShape(node, file: file) }
        return node
    }

    /// Counts flow nesting and aliases on the raw text, before libyaml sees it. Quoted scalars
    /// are skipped with their escapes: `\\` and `\"` inside double quotes, `''` inside single ones.
    static func prescan(_ text: String, file: String) throws {
        var depth = 0
        var aliases = 0
        var inSingle = false
        var inDouble = false
        var escaped = false
        var inComment = false
        var previous: UInt8 = UInt8(ascii: "\n")
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            defer {
                previous = byte
                i += 1
            }
            if inDouble {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inDouble = false
                }
                continue
            }
            if inSingle {
                if byte == UInt8(ascii: "'") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "'") {
                        i += 1  // '' is a quote inside the scalar
                    } else {
                        inSingle = false
                    }
                }
                continue
            }
            if byte == UInt8(ascii: "\n") {
                inComment = false
                continue
            }
            if inComment { continue }
            switch byte {
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\n") || previous == UInt8(ascii: "\t"):
                inComment = true
            case UInt8(ascii: "\"") where isBoundary(previous): inDouble = true
            case UInt8(ascii: "'") where isBoundary(previous): inSingle = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth { throw EggError(file, "nested deeper than \(maxDepth) levels") }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
            case UInt8(ascii: "*") where isBoundary(previous):
                aliases += 1
                if aliases > maxAliases { throw EggError(file, "more than \(maxAliases) YAML aliases") }
            default: break
            }
        }
    }

    private static func isBoundary(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "[")
            || b == UInt8(ascii: "{") || b == UInt8(ascii: ",") || b == UInt8(ascii: ":") || b == UInt8(ascii: "-")
    }

    /// Walks the tree without recursion, bounding depth and the number of nodes.
    static func checkShape(_ root: Node, file: String) throws {
        var stack: [(Node, Int)] = [(root, 1)]
        var count = 0
        while let (node, depth) = stack.popLast() {
            count += 1
            if count > maxNodes { throw EggError(file, "more than \(maxNodes) YAML nodes (alias expansion?)") }
            if depth > maxDepth { throw EggError(file, "nested deeper than \(maxDepth) levels") }
            switch node {
            case .mapping(let m):
                for (k, v) in m {
                    stack.append((k, depth + 1))
                    stack.append((v, depth + 1))
                }
            case .sequence(let s):
                for v in s { stack.append((v, depth + 1)) }
            default: break
            }
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)" + (context.map { " (\($0.text))" } ?? "")
        case .composer(let context, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)" + (context.map { " (\($0.text))" } ?? "")
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "invalid YAML"
        }
    }
}
