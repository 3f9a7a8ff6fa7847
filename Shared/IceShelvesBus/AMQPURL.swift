/// A parsed `amqp://user:password@host:port/vhost` URL, or `amqps://` for TLS (port 5671 by
/// default; `?cacertfile=/path` names the CA bundle that signs the broker's certificate, otherwise
/// the system's). The broker's certificate and host name are always verified.
///
/// The password never appears in ``redacted``, which is what logs and `--help` show.
public struct AMQPURL: Sendable, Equatable {
    /// The broker host name or address.
    public var host: String
    /// The AMQP port.
    public var port: Int
    /// The user name.
    public var user: String
    /// The password; ``redacted`` hides it.
    public var password: String
    /// The virtual host.
    public var vhost: String
    /// `true` for `amqps://`: TLS with the broker's certificate verified.
    public var tls: Bool
    /// The CA certificates (PEM) for TLS, from `?cacertfile=`; `nil` means the system's.
    public var caFile: String?

    /// The default broker: `amqp://guest:guest@127.0.0.1:5672/`.
    public static let `default` = AMQPURL(host: "127.0.0.1", port: 5672, user: "guest", password: "guest", vhost: "/")

    /// A URL from its parts.
    public init(host: String, port: Int, user: String, password: String, vhost: String, tls: Bool = false, caFile: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
        self.tls = tls
        self.caFile = caFile
    }

    /// Parses a URL string, or throws an ``AMQPError`` that names what is wrong (never the password).
    public init(parsing text: String) throws {
        let tls = text.hasPrefix("amqps://")
        guard text.hasPrefix("amqp://") || tls else {
            throw AMQPError.invalidURL("the URL must start with amqp:// or amqps://")
        }
        var rest = Substring(text.dropFirst(tls ? "amqps://".count : "amqp://".count))
        var caFile: String?
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, kv[0] == "cacertfile", tls, let value = String(kv[1]).removingPercentEncodingSafe() else {
                    throw AMQPError.invalidURL("the only query parameter is cacertfile, with amqps://")
                }
                caFile = value
            }
            rest = rest[..<question]
        }
        var vhost = "/"
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let decoded = String(path).removingPercentEncodingSafe() else {
                    throw AMQPError.invalidURL("the vhost is not valid percent-encoding")
                }
                vhost = decoded
            }
            rest = rest[..<slash]
        }
        var user = "guest"
        var password = "guest"
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let u = String(parts[0]).removingPercentEncodingSafe(),
                let p = (parts.count > 1 ? String(parts[1]) : "").removingPercentEncodingSafe()
            else { throw AMQPError.invalidURL("the credentials are not valid percent-encoding") }
            user = u
            password = p
        }
        var host = String(rest)
        var port = tls ? 5671 : 5672
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw AMQPError.invalidURL("unclosed [ in host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw AMQPError.invalidURL("the port is not a number from 1 to 65535")
                }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw AMQPError.invalidURL("the port is not a number from 1 to 65535")
            }
            port = p
        }
        guard !host.isEmpty else { throw AMQPError.invalidURL("the host is empty") }
        self.init(host: host, port: port, user: user, password: password, vhost: vhost, tls: tls, caFile: caFile)
    }

    /// The URL with the password replaced by `***`, safe for logs.
    public var redacted: String {
        let v = vhost == "/" ? "" : vhost
        return "\(tls ? "amqps" : "amqp")://\(user):***@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(v)"
    }
}

extension String {
    /// Percent-decoding without Foundation; nil when a `%` is not followed by two hex digits.
    func removingPercentEncodingSafe() -> String? {
        var bytes: [UInt8] = []
        var it = utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}
