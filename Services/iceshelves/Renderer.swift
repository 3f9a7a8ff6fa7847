import Foundation

/// Turns gateway answers into text in one of the output formats. Pure, so the tests can check it.
struct Renderer: Sendable {
    var format: OutputFormat
    var columns: Columns

    /// A list: a table with a header, CSV with a header, or a JSON/YAML array.
    func list(_ items: [JSONValue]) -> String {
        switch format {
        case .table:
            return TextTable(header: columns.names.map { $0.uppercased() }, rows: items.map(cells)).render()
        case .csv:
            return CSV.render(header: columns.names, rows: items.map(cells))
        case .json:
            return Self.prettyJSON(.array(items.map(columns.project))) + "\n"
        case .yaml:
            return YAMLWriter.render(.array(items.map(columns.project)))
        }
    }

    /// One object: `KEY  value` lines in a table, one CSV row with a header, or a JSON/YAML object.
    /// Unpicked, a table shows every scalar field the object has, in the default columns' order first.
    func item(_ item: JSONValue) -> String {
        switch format {
        case .table:
            var names = columns.names
            if !columns.picked, let o = item.object {
                names += o.keys.sorted().filter { !names.contains($0) && !Self.isBulky(o[$0]!) }
            }
            return TextTable(header: nil, rows: names.map { [$0.uppercased() + ":", item.value(at: $0)?.cellText ?? ""] }).render()
        case .csv:
            return CSV.render(header: columns.names, rows: [cells(item)])
        case .json:
            return Self.prettyJSON(columns.project(item)) + "\n"
        case .yaml:
            return YAMLWriter.render(columns.project(item))
        }
    }

    private func cells(_ item: JSONValue) -> [String] {
        columns.names.map { item.value(at: $0)?.cellText ?? "" }
    }

    /// Long texts and nested lists stay out of the vertical table (ask for them with `-c` or `--format`).
    private static func isBulky(_ value: JSONValue) -> Bool {
        switch value {
        case .array, .object: true
        case .string(let s): s.count > 200 || s.contains("\n")
        default: false
        }
    }

    static func prettyJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
}
