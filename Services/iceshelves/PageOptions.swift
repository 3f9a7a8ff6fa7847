import ArgumentParser

/// `--page` and `--per-page` of every list (the API's paging).
struct PageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Page to show, from 1.", valueName: "n"))
    var page: Int = 1

    @Option(name: .customLong("per-page"), help: ArgumentHelp("Rows per page, 1 to 100.", valueName: "n"))
    var perPage: Int = 50

    func validate() throws {
        guard page >= 1 else { throw ValidationError("--page must be 1 or more") }
        guard (1...100).contains(perPage) else { throw ValidationError("--per-page must be between 1 and 100") }
    }

    var query: [String: String?] { ["page": String(page), "per_page": String(perPage)] }
}
