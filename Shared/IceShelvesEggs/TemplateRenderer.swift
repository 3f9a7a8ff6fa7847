import IceShelvesContracts
import Yams

/// Puts variable values into YAML by editing the parsed tree, never the text, so a value can
/// only ever become a scalar (or, for a list, scalars in a sequence): it cannot add a key, an
/// item or a document, whatever characters it holds.
///
/// Placeholders are `{{ name }}` inside scalars. A scalar that is exactly one placeholder takes
/// the value's type (string, integer, boolean; a list becomes a sequence, and as a sequence item
/// its items are spliced in). A placeholder inside a longer string is replaced by the value's text.
/// Mapping keys are never substituted. Strings are always emitted double-quoted. A list that
/// only held list placeholders and comes out empty is removed together with its key.
public enum TemplateRenderer {
    /// Renders a YAML document. `header` is written first (for example `#cloud-config`).
    public static func render(yaml text: String, values: [String: VariableValue], file: String, header: String? = nil) throws -> String {
        let prefix = header.map { $0 + "\n" } ?? ""
        guard let rendered = try renderNode(yaml: text, values: values, file: file) else { return prefix }
        return prefix + (try serialize(rendered, file: file))
    }

    /// Renders a YAML document into a tree, for callers that keep working on it.
    public static func renderNode(yaml text: String, values: [String: VariableValue], file: String) throws -> Node? {
        guard let root = try YAMLDocument.load(text, file: file) else { return nil }
        var unknown = Set<String>()
        let rendered = substitute(root, values, &unknown)
        if !unknown.isEmpty {
            throw EggValidationError(egg: file, problems: unknown.sorted().map { EggError(file, "uses the undeclared variable '\($0)'") })
        }
        return rendered
    }

    /// Writes a tree as block-style YAML, two-space indented, without line folding.
    public static func serialize(_ node: Node, file: String) throws -> String {
        do {
            return try Yams.serialize(node: node, indent: 2, width: -1, allowUnicode: true, sortKeys: false)
        } catch {
            throw EggError(file, "could not be written back as YAML")
        }
    }

    /// The names of the placeholders a text uses.
    public static func placeholders(in text: String) -> Set<String> {
        Set(text.matches(of: placeholder).map { String($0.output.1) })
    }

    /// `{{ name }}`, with the name captured.
    nonisolated(unsafe) public static let placeholder = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/

    static func substitute(_ node: Node, _ values: [String: VariableValue], _ unknown: inout Set<String>) -> Node {
        switch node {
        case .scalar(let s):
            return substituteScalar(s, values, &unknown) ?? node
        case .mapping(var m):
            var pairs: [(Node, Node)] = []
            for (k, v) in m {
                let rendered = substitute(v, values, &unknown)
                // A list that only held list placeholders and came out empty is dropped with its
                // key: cloud-config refuses empty lists (ssh_authorized_keys: []).
                if case .sequence(let before) = v, !before.isEmpty, case .sequence(let after) = rendered, after.isEmpty { continue }
                pairs.append((k, rendered))
            }
            m = Node.Mapping(pairs, m.tag, m.style)
            return .mapping(m)
        case .sequence(let s):
            var items: [Node] = []
            for item in s {
                if case .scalar(let sc) = item, let name = wholePlaceholder(sc.string), case .list(let list)? = values[name] {
                    items.append(contentsOf: list.map(quoted))
                } else {
                    items.append(substitute(item, values, &unknown))
                }
            }
            return .sequence(Node.Sequence(items, s.tag, s.style))
        case .alias:
            return node
        }
    }

    static func substituteScalar(_ s: Node.Scalar, _ values: [String: VariableValue], _ unknown: inout Set<String>) -> Node? {
        guard s.string.contains("{{") else { return nil }  // most scalars: skip the regex
        let names = placeholders(in: s.string)
        guard !names.isEmpty else { return nil }
        for name in names where values[name] == nil { unknown.insert(name) }
        if let name = wholePlaceholder(s.string), let value = values[name] {
            switch value {
            case .string(let v): return quoted(v)
            case .integer(let i): return .scalar(.init(String(i), Tag(.int), .plain))
            case .boolean(let b): return .scalar(.init(b ? "true" : "false", Tag(.bool), .plain))
            case .list(let l): return .sequence(Node.Sequence(l.map(quoted)))
            }
        }
        let text = s.string.replacing(placeholder) { match in
            switch values[String(match.output.1)] {
            case .string(let v)?: v
            case .integer(let i)?: String(i)
            case .boolean(let b)?: b ? "true" : "false"
            case .list(let l)?: l.joined(separator: ",")
            case nil: String(match.output.0)
            }
        }
        return quoted(text)
    }

    static func wholePlaceholder(_ text: String) -> String? {
        guard let m = text.wholeMatch(of: placeholder) else { return nil }
        return String(m.output.1)
    }

    static func quoted(_ text: String) -> Node { .scalar(.init(text, Tag(.str), .doubleQuoted)) }

    /// Replaces `{{ name }}` in plain text (a README), XML-escaping the values when asked (a
    /// libvirt fragment). Unknown placeholders stay as they are.
    public static func renderText(_ text: String, values: [String: VariableValue], escapeXML: Bool) -> String {
        text.replacing(placeholder) { match in
            let raw: String =
                switch values[String(match.output.1)] {
                case .string(let v)?: v
                case .integer(let i)?: String(i)
                case .boolean(let b)?: b ? "true" : "false"
                case .list(let l)?: l.joined(separator: ",")
                case nil: String(match.output.0)
                }
            guard escapeXML else { return raw }
            return raw.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(
                    of: "'",
                    with: "&apos;"
                )
        }
    }
}
