import Foundation

/// LXD's REST API over any ``LXDTransport``: instances, operations, state, exec, files,
/// profiles, images, cluster members and resources.
public struct LXDClient: Sendable {
    public let transport: any LXDTransport
    /// The LXD project, when not `default`.
    public let project: String?
    /// The limit for one request (`LXD_CONNECTION_TIMEOUT`); waits add their own time to it.
    public let timeout: Duration

    public init(transport: any LXDTransport, project: String? = nil, timeout: Duration = .seconds(30)) {
        self.transport = transport
        self.project = project
        self.timeout = timeout
    }

    public func close() { transport.close() }

    // MARK: Server and cluster

    public func server() async throws -> LXDServer { try await get("/1.0") }

    public func clusterMembers() async throws -> [LXDClusterMember] {
        try await get("/1.0/cluster/members?recursion=1")
    }

    /// CPU and memory of the server, or of one cluster member.
    public func resources(member: String? = nil) async throws -> LXDResources {
        try await get("/1.0/resources" + query(["target": member], project: false))
    }

    // MARK: Instances

    /// The instance, or `nil` when there is none of that name.
    public func instance(_ name: String) async throws -> LXDInstance? {
        do {
            return try await get("/1.0/instances/\(escape(name))" + query([:]))
        } catch let error as LXDError where error.isNotFound {
            return nil
        }
    }

    /// All instances with their config (of every member, on a cluster).
    public func instances() async throws -> [LXDInstance] {
        try await get("/1.0/instances" + query(["recursion": "1"]))
    }

    public func instanceState(_ name: String) async throws -> LXDInstanceState {
        try await get("/1.0/instances/\(escape(name))/state" + query([:]))
    }

    public struct InstanceSpec: Encodable, Sendable {
        struct Source: Encodable, Sendable {
            var type = "image"
            var alias: String?
            var fingerprint: String?
        }

        var name: String
        var type = "container"
        var source: Source
        var config: [String: String]
        var profiles: [String]

        public init(name: String, image: String, config: [String: String], profiles: [String]) {
            self.name = name
            let isFingerprint = image.count >= 12 && image.allSatisfy(\.isHexDigit)
            source = Source(alias: isFingerprint ? nil : image, fingerprint: isFingerprint ? image : nil)
            self.config = config
            self.profiles = profiles
        }
    }

    /// Starts creating an instance; wait for the returned operation.
    public func createInstance(_ spec: InstanceSpec, member: String?) async throws -> LXDOperation {
        try await operation("POST", "/1.0/instances" + query(["target": member]), body: spec)
    }

    public func changeState(_ name: String, action: String, force: Bool = false) async throws -> LXDOperation {
        struct Body: Encodable {
            var action: String
            var force: Bool
            var timeout: Int
        }
        return try await operation("PUT", "/1.0/instances/\(escape(name))/state" + query([:]), body: Body(action: action, force: force, timeout: 30))
    }

    public func deleteInstance(_ name: String) async throws -> LXDOperation {
        try await operation("DELETE", "/1.0/instances/\(escape(name))" + query([:]), body: Optional<String>.none)
    }

    /// Runs a command and waits for it (`record-output`), up to `timeout`.
    public func exec(_ name: String, _ command: [String], timeout: Duration) async throws -> LXDExecResult {
        struct Body: Encodable {
            var command: [String]
            var environment: [String: String] = [:]
            var recordOutput = true
            var interactive = false
            var waitForWebsocket = false
            enum CodingKeys: String, CodingKey {
                case command, environment, interactive
                case recordOutput = "record-output"
                case waitForWebsocket = "wait-for-websocket"
            }
        }
        let started = try await operation("POST", "/1.0/instances/\(escape(name))/exec" + query([:]), body: Body(command: command))
        let done = try await wait(started, timeout: timeout)
        guard done.succeeded, let meta = done.metadata, let code = meta["return"]?.int else {
            throw LXDError(.api, "running \(command.joined(separator: " ")) in \(name) failed: \(done.err ?? done.status)")
        }
        var out = ["1": "", "2": ""]
        for fd in ["1", "2"] {
            if let path = meta["output"]?[fd]?.string {
                out[fd] = String(decoding: try await content(path), as: UTF8.self)
                _ = try? await raw("DELETE", path)
            }
        }
        return LXDExecResult(exitCode: code, stdout: out["1"]!, stderr: out["2"]!)
    }

    /// A file's contents from inside an instance.
    public func file(_ name: String, path: String) async throws -> [UInt8] {
        try await content("/1.0/instances/\(escape(name))/files" + query(["path": path]))
    }

    // MARK: Operations

    /// Waits for an operation to finish, in steps, so a cancelled task stops waiting promptly.
    public func wait(_ operation: LXDOperation, timeout: Duration) async throws -> LXDOperation {
        let deadline = ContinuousClock.now + timeout
        var current = operation
        while !current.isFinished {
            try Task.checkCancellation()
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw LXDError(.timeout, "LXD operation \(operation.id) (\(operation.status)) did not finish within \(timeout)")
            }
            let step = min(left, .seconds(5))
            let seconds = max(1, Int(step.components.seconds))
            do {
                current = try await get("/1.0/operations/\(operation.id)/wait" + query(["timeout": String(seconds)]), extra: .seconds(seconds))
            } catch let e as LXDError where e.kind == .api && (e.status == 504 || e.message.contains("deadline exceeded")) {
                // Some LXD versions answer a wait that timed out with an error: ask for the state.
                current = try await get("/1.0/operations/\(operation.id)" + query([:]))
            }
        }
        return current
    }

    /// Operations that are still running (to find a create that a killed deployer left behind).
    public func runningOperations() async throws -> [LXDOperation] {
        struct Lists: Decodable { var running: [LXDOperation]? }
        let lists: Lists = try await get("/1.0/operations" + query(["recursion": "1"]))
        return lists.running ?? []
    }

    /// Waits for the running operations that work on an instance (a create or start begun by
    /// someone else, for example an earlier attempt). Returns those that failed. Commands running
    /// inside it (`exec`, such as a `cloud-init status --wait` of a cancelled deployment) are not
    /// waited for: they end with the command, and a forced stop ends them.
    public func waitForOperations(onInstance name: String, timeout: Duration) async throws -> [LXDOperation] {
        var failed: [LXDOperation] = []
        for op in try await runningOperations()
        where !op.isExec
            && (op.resources?["instances"] ?? []).contains(where: { $0.hasSuffix("/instances/\(name)") || $0.contains("/instances/\(name)?") })
        {
            let done = try await wait(op, timeout: timeout)
            if !done.succeeded && done.statusCode != 401 { failed.append(done) }
        }
        return failed
    }

    // MARK: Profiles and images

    public func profile(_ name: String) async throws -> LXDProfile? {
        do {
            return try await get("/1.0/profiles/\(escape(name))" + query([:]))
        } catch let error as LXDError where error.isNotFound {
            return nil
        }
    }

    public func createProfile(_ profile: LXDProfile) async throws {
        _ = try await send("POST", "/1.0/profiles" + query([:]), body: profile) as JSONValue?
    }

    public func updateProfile(_ profile: LXDProfile) async throws {
        struct Body: Encodable {
            var description: String
            var config: [String: String]
            var devices: [String: [String: String]]
        }
        _ =
            try await send(
                "PUT",
                "/1.0/profiles/\(escape(profile.name))" + query([:]),
                body: Body(description: profile.description, config: profile.config, devices: profile.devices)
            ) as JSONValue?
    }

    /// The fingerprint behind an image alias, or `nil` when the server has no such alias.
    public func imageAlias(_ alias: String) async throws -> String? {
        struct Alias: Decodable { var target: String }
        do {
            let a: Alias = try await get("/1.0/images/aliases/\(escape(alias))" + query([:]))
            return a.target
        } catch let error as LXDError where error.isNotFound {
            return nil
        }
    }

    // MARK: Plumbing

    private struct Response<M: Decodable>: Decodable {
        var type: String
        var error: String?
        var errorCode: Int?
        var operation: String?
        var metadata: M?
        enum CodingKeys: String, CodingKey {
            case type, error, operation, metadata
            case errorCode = "error_code"
        }
    }

    func get<M: Decodable>(_ path: String, extra: Duration = .zero) async throws -> M {
        guard let m: M = try await send("GET", path, body: Optional<String>.none, extra: extra) else {
            throw LXDError(.protocolError, "LXD answered GET \(path) without metadata")
        }
        return m
    }

    func operation(_ method: String, _ path: String, body: (some Encodable)?) async throws -> LXDOperation {
        guard let op: LXDOperation = try await send(method, path, body: body) else {
            throw LXDError(.protocolError, "LXD answered \(method) \(path) without an operation")
        }
        return op
    }

    func send<M: Decodable>(_ method: String, _ path: String, body: (some Encodable)?, extra: Duration = .zero) async throws -> M? {
        let data = try body.map { Array(try JSONEncoder().encode($0)) }
        let response = try await raw(method, path, body: data, extra: extra)
        let decoded: Response<M>
        do {
            decoded = try JSONDecoder().decode(Response<M>.self, from: Data(response.body))
        } catch {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw LXDError(
                .protocolError,
                "LXD answered \(method) \(path.prefix(while: { $0 != "?" })) with HTTP \(response.status) and unreadable JSON: \(text)"
            )
        }
        if decoded.type == "error" || response.status >= 400 {
            throw LXDError(.api, decoded.error ?? "LXD error \(response.status)", status: decoded.errorCode ?? response.status)
        }
        return decoded.metadata
    }

    /// A body that is not LXD's JSON envelope (a file, an exec log), or LXD's error for it.
    func content(_ path: String) async throws -> [UInt8] {
        let response = try await raw("GET", path)
        guard response.status < 400 else {
            struct Failure: Decodable { var error: String? }
            let message = (try? JSONDecoder().decode(Failure.self, from: Data(response.body)))?.error ?? "HTTP \(response.status)"
            throw LXDError(.api, "\(path.prefix(while: { $0 != "?" })): \(message)", status: response.status)
        }
        return response.body
    }

    func raw(_ method: String, _ path: String, body: [UInt8]? = nil, extra: Duration = .zero) async throws -> LXDHTTPResponse {
        try await transport.send(LXDHTTPRequest(method: method, path: path, body: body, timeout: timeout + extra))
    }

    func query(_ items: [String: String?], project withProject: Bool = true) -> String {
        var all = items.compactMapValues { $0 }
        if withProject, let project, project != "default" { all["project"] = project }
        guard !all.isEmpty else { return "" }
        return "?" + all.sorted { $0.key < $1.key }.map { "\($0.key)=\(escape($0.value))" }.joined(separator: "&")
    }

    func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=?#+/"))) ?? s
    }
}
