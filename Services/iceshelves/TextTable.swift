/// Columns padded to their widest cell, two spaces apart; control characters in cells are
/// replaced so a hostile value cannot move the cursor or break a row.
struct TextTable: Sendable {
    var header: [String]?
    var rows: [[String]]

    func render() -> String {
        let all = (header.map { [$0] } ?? []) + rows.map { $0.map(Self.clean) }
        guard let width = all.map(\.count).max(), width > 0 else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            out += line + "\n"
        }
        return out
    }

    /// Newlines and tabs become spaces, other control characters `?`.
    static func clean(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { c in
                    if c == "\n" || c == "\t" || c == "\r" { return " " }
                    return c.value < 32 || c.value == 0x7f || (0x80..<0xa0).contains(c.value) ? "?" : c
                }
            )
        )
    }
}
