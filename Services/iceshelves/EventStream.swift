import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `GET` of an SSE endpoint as a stream of events (URLSession's delegate API, which streams on
/// Linux too). The stream ends when the server closes it, and throws on an HTTP error.
final class EventStream: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // The delegate queue is serial, so `parser` is only touched from it.
    private var parser = SSEParser()
    private let continuation: AsyncThrowingStream<SSEEvent, any Error>.Continuation
    let events: AsyncThrowingStream<SSEEvent, any Error>
    private var session: URLSession?

    private init(_ pair: (AsyncThrowingStream<SSEEvent, any Error>, AsyncThrowingStream<SSEEvent, any Error>.Continuation)) {
        events = pair.0
        continuation = pair.1
    }

    /// Opens `path` with `Last-Event-ID` when given.
    static func open(_ client: GatewayClient, _ path: String, lastEventID: String?) throws -> EventStream {
        let stream = EventStream(AsyncThrowingStream.makeStream())
        var request = client.request("GET", try client.url(path), timeout: 60)  // the gateway sends a comment every 15 s
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        if let lastEventID { request.setValue(lastEventID, forHTTPHeaderField: "Last-Event-ID") }
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: .ephemeral, delegate: stream, delegateQueue: queue)
        stream.session = session
        stream.continuation.onTermination = { [weak session] _ in session?.invalidateAndCancel() }
        session.dataTask(with: request).resume()
        return stream
    }

    func urlSession(
        _ session: URLSession,
        dataTask: URLSessionDataTask,
        didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            continuation.finish(throwing: CLIError("the gateway answered \(status) to the event stream"))
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        for e in parser.feed(data) { continuation.yield(e) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error, (error as? URLError)?.code != .cancelled {
            continuation.finish(throwing: CLIError("the event stream broke: \(error.localizedDescription)"))
        } else {
            continuation.finish()
        }
        session.finishTasksAndInvalidate()
    }
}
