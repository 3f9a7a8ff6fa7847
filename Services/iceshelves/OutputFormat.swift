import ArgumentParser

/// `--format`: how lists and shows print.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case table, json, yaml, csv
}
