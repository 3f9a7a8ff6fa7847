import CCurl
import Foundation

/// POSTs one webhook delivery with libcurl on a thread of its own (never on Swift's pool).
/// HTTPS targets are verified against the system's trust store.
struct WebhookPoster: Sendable {
    var timeout: Duration = .seconds(10)

    /// The HTTP status, or an error text when there was no answer.
    /// - Parameter pin: the connection goes to this checked address for the URL's host and port.
    func post(url: String, pin: (host: String, port: Int, address: String), body: [UInt8], headers: [String]) async -> Result<Int, WebhookError> {
        let resolve = "\(pin.host):\(pin.port):" + (pin.address.contains(":") ? "[\(pin.address)]" : pin.address)
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Self.perform(url: url, resolve: resolve, body: body, headers: headers, timeout: timeout))
            }
            thread.name = "webhook-post"
            thread.start()
        }
    }

    struct WebhookError: Error, Sendable { var message: String }

    /// The text a delivery records for any failure to get an HTTP answer (refused, timed out,
    /// TLS, not HTTP): the same for all, so that webhooks cannot probe internal ports.
    static let unreachable = "no HTTP answer from the endpoint (the gateway's log has the reason)"

    private static let global: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    private static func perform(url: String, resolve: String, body: [UInt8], headers: [String], timeout: Duration) -> Result<Int, WebhookError> {
        _ = global
        guard let h = curl_easy_init() else { return .failure(.init(message: "libcurl could not start")) }
        defer { curl_easy_cleanup(h) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in headers + ["Content-Type: application/json", "Expect:"] { list = iceshelves_curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        let pinned = iceshelves_curl_slist_append(nil, resolve)
        defer { curl_slist_free_all(pinned) }
        _ = iceshelves_curl_set_pointer(h, CURLOPT_RESOLVE, pinned)
        let ms = Int(timeout.components.seconds) * 1000
        _ = iceshelves_curl_set_string(h, CURLOPT_URL, url)
        _ = iceshelves_curl_set_long(h, CURLOPT_NOSIGNAL, 1)
        _ = iceshelves_curl_set_long(h, CURLOPT_TIMEOUT_MS, ms)
        _ = iceshelves_curl_set_long(h, CURLOPT_CONNECTTIMEOUT_MS, ms)
        _ = iceshelves_curl_set_long(h, CURLOPT_FOLLOWLOCATION, 0)
        _ = iceshelves_curl_set_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = iceshelves_curl_set_pointer(h, CURLOPT_HTTPHEADER, list)
        _ = iceshelves_curl_set_long(h, CURLOPT_POSTFIELDSIZE, body.count)
        _ = body.withUnsafeBytes {
            iceshelves_curl_set_pointer(
                h,
                CURLOPT_COPYPOSTFIELDS,
                UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
            )
        }
        _ = iceshelves_curl_set_write(h, { _, size, count, _ in size * count }, nil)  // the answer's body is not kept
        let rc = curl_easy_perform(h)
        guard rc == CURLE_OK else { return .failure(.init(message: String(cString: curl_easy_strerror(rc)))) }
        var status = 0
        _ = iceshelves_curl_get_long(h, CURLINFO_RESPONSE_CODE, &status)
        return .success(status)
    }
}
