import Foundation

/// Block-style YAML for a JSON value. A string is written plain only when it cannot be read back
/// as anything else; otherwise it is double-quoted with JSON's escapes (valid YAML), so the text
/// always parses back to the same value.
enum YAMLWriter {
    static func render(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out, inline: false)
        return out.hasSuffix("\n") ? out : out + "\n"
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout String, inline: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .array(let items):
            if items.isEmpty {
                out += (inline ? " " : pad) + "[]\n"
                return
            }
            if inline { out += "\n" }
            for item in items {
                out += pad + "-"
                switch item {
                case .object(let o) where !o.isEmpty:
                    // The first key on the dash's line, the rest aligned under it.
                    var nested = ""
                    write(item, indent: indent + 2, into: &nested, inline: false)
                    out += " " + nested.dropFirst(indent + 2)
                case .array(let a) where !a.isEmpty:
                    write(item, indent: indent + 2, into: &out, inline: true)
                default:
                    out += " " + scalar(item) + "\n"
                }
            }
        case .object(let o):
            if o.isEmpty {
                out += (inline ? " " : pad) + "{}\n"
                return
            }
            if inline { out += "\n" }
            for key in o.keys.sorted() {
                let v = o[key]!
                out += pad + string(key) + ":"
                switch v {
                case .object(let inner) where !inner.isEmpty: write(v, indent: indent + 2, into: &out, inline: true)
                case .array(let inner) where !inner.isEmpty: write(v, indent: indent, into: &out, inline: true)
                default: out += " " + scalar(v) + "\n"
                }
            }
        default:
            out += (inline ? " " : pad) + scalar(value) + "\n"
        }
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number: value.cellText
        case .string(let s): string(s)
        case .array: "[]"
        case .object: "{}"
        }
    }

    private static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", ""]

    /// Plain when safe, quoted otherwise.
    static func string(_ s: String) -> String {
        let safe =
            !reserved.contains(s.lowercased()) && Double(s) == nil && Int(s) == nil
            && s.first.map { $0.isLetter || $0 == "/" || $0 == "_" } == true
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-./@+ ".contains($0)) }
            && !s.hasSuffix(" ") && !s.contains(" #") && !s.contains(": ")
        if safe { return s }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(s), as: UTF8.self)) ?? "\"\""
    }
}
