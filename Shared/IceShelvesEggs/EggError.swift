/// Why an egg was refused: which file, and what is wrong with it. Safe to show to a user.
public struct EggError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or field the problem is in, relative to the egg, for example `metadata.json: version`.
    public let path: String
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// All the problems found in one egg.
public struct EggValidationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let egg: String
    public let problems: [EggError]

    public init(egg: String, problems: [EggError]) {
        self.egg = egg
        self.problems = problems
    }

    public var description: String {
        "egg '\(egg)' is invalid: " + problems.map(\.description).joined(separator: "; ")
    }
}
