import CCurl
import Foundation

/// One libcurl easy handle with its connection, set up once for an endpoint and reused.
///
/// Used by one thread at a time: ``CurlTransport`` takes it out of its pool for a request.
final class CurlHandle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let base: String
    private let pin: UnsafeMutablePointer<iceshelves_pin>?
    private var headers: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    private static let global: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(endpoint: CurlTransport.Endpoint, connectTimeout: Duration) throws {
        _ = Self.global
        guard let h = curl_easy_init() else { throw LXDError(.configuration, "libcurl could not create a handle") }
        handle = h
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var pinStorage: UnsafeMutablePointer<iceshelves_pin>?
        switch endpoint {
        case .unix(let path):
            base = "http://lxd"
            _ = iceshelves_curl_set_string(h, CURLOPT_UNIX_SOCKET_PATH, path)
        case .https(let url, let identity, let trust, let resolve):
            base = url.hasSuffix("/") ? String(url.dropLast()) : url
            if let resolve, let u = URLComponents(string: url), let host = u.host {
                let address = resolve.contains(":") ? "[\(resolve)]" : resolve
                resolveList = iceshelves_curl_slist_append(nil, "\(host):\(u.port ?? 443):\(address)")
                _ = iceshelves_curl_set_pointer(h, CURLOPT_RESOLVE, resolveList)
            }
            _ = iceshelves_curl_set_string(h, CURLOPT_SSLCERTTYPE, "PEM")
            _ = iceshelves_curl_set_string(h, CURLOPT_SSLKEYTYPE, "PEM")
            let cert = Array(identity.certificatePEM.utf8)
            let key = Array(identity.keyPEM.utf8)
            _ = iceshelves_curl_set_blob(h, CURLOPT_SSLCERT_BLOB, cert, cert.count)
            _ = iceshelves_curl_set_blob(h, CURLOPT_SSLKEY_BLOB, key, key.count)
            switch trust {
            case .pinned(let digest):
                let p = UnsafeMutablePointer<iceshelves_pin>.allocate(capacity: 1)
                p.initialize(to: iceshelves_pin())
                withUnsafeMutableBytes(of: &p.pointee.sha256) { raw in raw.copyBytes(from: digest.prefix(32)) }
                _ = iceshelves_curl_pin(h, p)
                pinStorage = p
            case .insecure:
                _ = iceshelves_curl_set_long(h, CURLOPT_SSL_VERIFYPEER, 0)
                _ = iceshelves_curl_set_long(h, CURLOPT_SSL_VERIFYHOST, 0)
            }
        }
        pin = pinStorage
        _ = iceshelves_curl_set_long(h, CURLOPT_NOSIGNAL, 1)
        _ = iceshelves_curl_set_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = iceshelves_curl_set_long(h, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout.milliseconds)
        _ = iceshelves_curl_set_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer)
        headers = iceshelves_curl_slist_append(nil, "Content-Type: application/json")
        headers = iceshelves_curl_slist_append(headers, "Expect:")
        _ = iceshelves_curl_set_pointer(h, CURLOPT_HTTPHEADER, headers)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headers)
        curl_slist_free_all(resolveList)
        pin?.deallocate()
        errorBuffer.deallocate()
    }

    /// Performs one request on the calling (non-pool) thread.
    func perform(_ request: LXDHTTPRequest) throws -> LXDHTTPResponse {
        let h = handle
        errorBuffer[0] = 0
        _ = iceshelves_curl_set_string(h, CURLOPT_URL, base + request.path)
        _ = iceshelves_curl_set_long(h, CURLOPT_HTTPGET, 1)  // clears a previous request's body
        if let body = request.body {
            _ = iceshelves_curl_set_long(h, CURLOPT_POSTFIELDSIZE, body.count)
            _ = body.withUnsafeBytes {
                iceshelves_curl_set_pointer(
                    h,
                    CURLOPT_COPYPOSTFIELDS,
                    UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
                )
            }
        }
        _ = iceshelves_curl_set_string(h, CURLOPT_CUSTOMREQUEST, request.method)
        _ = iceshelves_curl_set_long(h, CURLOPT_TIMEOUT_MS, request.timeout.milliseconds)
        let sink = ResponseSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        _ = iceshelves_curl_set_write(
            h,
            { data, size, count, user in
                guard let data, let user else { return 0 }
                let sink = Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            },
            unmanaged.toOpaque()
        )
        let rc = curl_easy_perform(h)
        guard rc == CURLE_OK else { throw error(rc, request) }
        var status = 0
        _ = iceshelves_curl_get_long(h, CURLINFO_RESPONSE_CODE, &status)
        return LXDHTTPResponse(status: status, body: sink.bytes)
    }

    private func error(_ rc: CURLcode, _ request: LXDHTTPRequest) -> LXDError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(rc))
        let what = "\(request.method) \(base)\(request.path.prefix(while: { $0 != "?" }))"
        switch rc {
        case CURLE_OPERATION_TIMEDOUT:
            return LXDError(.timeout, "\(what) timed out after \(request.timeout): \(detail)")
        case CURLE_PEER_FAILED_VERIFICATION:
            return LXDError(
                .tls,
                "the LXD server at \(base) did not present the pinned certificate (\(detail)); check server_cert or server_fingerprint"
            )
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
            if detail.contains("certificate verify failed") {
                return LXDError(
                    .tls,
                    "the LXD server at \(base) did not present the pinned certificate (\(detail)); check server_cert or server_fingerprint"
                )
            }
            return LXDError(.tls, "TLS with \(base) failed: \(detail)")
        default:
            return LXDError(.connection, "cannot reach LXD (\(what)): \(detail)")
        }
    }
}

private final class ResponseSink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

extension Duration {
    var milliseconds: Int {
        let (s, a) = components
        return Int(s) * 1000 + Int(a / 1_000_000_000_000_000)
    }
}
