import Foundation

/// One Server-Sent Event: its `id:`, `event:` and joined `data:` lines.
struct SSEEvent: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String
}

/// Splits a byte stream into Server-Sent Events, whatever the chunk boundaries (comments and
/// unknown fields are skipped, as the spec says).
struct SSEParser: Sendable {
    private var buffer: [UInt8] = []
    private var id: String?
    private var event: String?
    private var data: [String] = []

    /// Feeds bytes; answers the events they completed.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [SSEEvent] {
        buffer.append(contentsOf: bytes)
        var out: [SSEEvent] = []
        while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(buffer[..<nl])
            buffer.removeSubrange(...nl)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let e = take(String(decoding: line, as: UTF8.self)) { out.append(e) }
        }
        return out
    }

    private mutating func take(_ line: String) -> SSEEvent? {
        if line.isEmpty {
            defer {
                data = []
                event = nil
            }
            guard !data.isEmpty else { return nil }
            return SSEEvent(id: id, event: event, data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring = ""
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(line)
        }
        switch field {
        case "id": id = String(value)
        case "event": event = String(value)
        case "data": data.append(String(value))
        default: break
        }
        return nil
    }
}
