import Foundation
import IceShelvesContracts

/// Checks a request's `reply_to` before an RPC server answers to it.
///
/// RabbitMQ 3.10 decodes a direct reply-to address (`amq.rabbitmq.reply-to.<pid>.<key>`, the
/// pid part base64 of an Erlang `NEW_PID_EXT` whose node is `reply@<hash>`) without guarding
/// against malformed input: a reply to `amq.rabbitmq.reply-to.bm90LWEtcGlk.x` crashes the
/// answering channel's process, and the broker closes the whole connection (541
/// INTERNAL_ERROR), with every consumer and call of the answering service on it. Any caller
/// that can send a request could do that at will. So a server replies only to an address of
/// exactly the broker's own shape, and drops the rest; a caller that lies about its reply-to
/// only loses its own reply.
enum DirectReplyTo {
    /// `true` when `address` has the exact shape RabbitMQ gives direct reply-to addresses.
    static func isWellFormed(_ address: String) -> Bool {
        let prefix = BusNames.directReplyTo + "."
        guard address.hasPrefix(prefix), address.utf8.count <= 255 else { return false }
        let parts = address.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, isBase64(parts[0]), isBase64(parts[1]), let raw = Data(base64Encoded: String(parts[0])) else { return false }
        // term_to_binary of a pid: 131 (version, which the broker may leave out), 88 (NEW_PID_EXT),
        // the node as an atom (encoding byte, 16-bit length, name), then id, serial and creation.
        var bytes = [UInt8](raw)
        if bytes.first != 131 { bytes.insert(131, at: 0) }
        guard bytes.count >= 5, bytes[1] == 88 else { return false }
        // The node atom: ATOM_EXT (100) or ATOM_UTF8_EXT (118) with a 16-bit length, or
        // SMALL_ATOM_UTF8_EXT (119, what newer Erlang writes) with an 8-bit one.
        let (nodeLength, start): (Int, Int)
        switch bytes[2] {
        case 100, 118: (nodeLength, start) = (Int(bytes[3]) << 8 | Int(bytes[4]), 5)
        case 119: (nodeLength, start) = (Int(bytes[3]), 4)
        default: return false
        }
        guard bytes.count == start + nodeLength + 12 else { return false }
        let node = bytes[start..<(start + nodeLength)]
        let replyAt = Array("reply@".utf8)
        guard node.count > replyAt.count, node.starts(with: replyAt) else { return false }
        return node.dropFirst(replyAt.count).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isBase64(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count % 4 == 0
            && text.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "=") }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
