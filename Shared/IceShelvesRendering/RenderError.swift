/// Why a deployment could not be rendered. Safe to show to the user who asked.
public struct RenderError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
