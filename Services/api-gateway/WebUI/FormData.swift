import Foundation

/// An `application/x-www-form-urlencoded` body (or query), decoded; repeated names keep every value.
struct FormData: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ text: String) {
        for part in text.split(separator: "&") where !part.isEmpty {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(kv[0])
            let value = kv.count > 1 ? Self.decode(kv[1]) : ""
            pairs.append((name, value))
        }
    }

    subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    /// Non-empty value, trimmed.
    func text(_ name: String) -> String? {
        guard let v = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        return v
    }

    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    /// Fields named `prefix.x`, as `x` → value.
    func group(_ prefix: String) -> [(String, String)] {
        pairs.compactMap { $0.0.hasPrefix(prefix + ".") ? (String($0.0.dropFirst(prefix.count + 1)), $0.1) : nil }
    }

    private static func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
    }
}
