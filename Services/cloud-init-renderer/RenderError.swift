/// Why a deployment could not be rendered. Safe to show to the user who asked.
struct RenderError: Error, CustomStringConvertible, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
