import ArgumentParser
import Foundation

/// `--format` and `-c`, on every list and show.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Output format: table, json, yaml or csv.", valueName: "format"))
    var format: OutputFormat = .table

    @Option(
        name: [.customShort("c"), .customLong("columns")],
        help: ArgumentHelp(
            "Columns to show, comma separated (field names; dotted paths reach into objects). Works in every format.",
            valueName: "columns"
        )
    )
    var columns: [String] = []

    /// Prints a list of objects.
    func printList(_ items: [JSONValue], defaults: [String]) throws {
        let cols = try Columns.parse(columns, defaults: defaults)
        print(Renderer(format: format, columns: cols).list(items), terminator: "")
    }

    /// Prints one object.
    func printItem(_ item: JSONValue, defaults: [String]) throws {
        let cols = try Columns.parse(columns, defaults: defaults)
        print(Renderer(format: format, columns: cols).item(item), terminator: "")
    }
}
