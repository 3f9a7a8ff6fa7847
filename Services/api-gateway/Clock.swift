import Foundation

/// ISO 8601 timestamps with milliseconds in UTC (`2026-11-28T04:50:00.123Z`).
enum Timestamp {
    static func now() -> String { string(Date()) }

    static func string(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)) + "Z"  // the style formats in UTC
    }

    static func date(_ text: String) -> Date? {
        let bare = text.hasSuffix("Z") ? String(text.dropLast()) : text
        return (try? Date(bare, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: .iso8601))
    }
}
