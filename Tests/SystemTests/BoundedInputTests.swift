import Foundation
import Testing

/// Hostile input through the whole stack (gateway, catalogue and renderer over RabbitMQ): a
/// catastrophic-backtracking variable pattern, and an upload at the size limit next to other RPCs.
extension GatewayTests {
    /// A tar.gz of one egg folder whose variable `v` has `pattern`.
    func eggArchive(name: String, pattern: String, in dir: String) throws -> Data {
        let folder = dir + "/src/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let metadata = """
            {"name":"\(name)","version":"1.0.0","category":"custom","egg_type":"lxd-container","base_image":"iceshelves/busybox",
             "variables":[{"name":"v","type":"string","required":true,"pattern":"\(pattern)"}]}
            """
        try metadata.write(toFile: folder + "/metadata.json", atomically: true, encoding: .utf8)
        try "#cloud-config\nruncmd: [echo, '{{ v }}']\n".write(toFile: folder + "/cloud-init.yaml", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", dir + "/\(name).tgz", "-C", dir + "/src", name]
        try tar.run()
        tar.waitUntilExit()
        return try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).tgz"))
    }

    /// Regression: `(a+)+b` with 31 characters made a dry run answer 503 after 15 s while the
    /// renderer burnt a CPU. The upload is refused, and an egg stored before the check (written
    /// into the catalogue's database here) is answered with 400 at once.
    @Test func theReDoSPatternIsRefusedQuickly() async throws {
        try await withStack(timeout: 600) { s in
            let cluster = try await HTTP.call(
                "POST",
                s.base + "/api/clusters",
                key: s.key,
                body: #"{"name":"redos","connection_method":"unix-socket"}"#
            )
            #expect(cluster.status == 201)
            let hostile = try eggArchive(name: "redos", pattern: "(a+)+b", in: s.data)
            let upload = try await HTTP.call(
                "POST",
                s.base + "/api/eggs/upload",
                key: s.key,
                body: #"{"archive_base64":"\#(hostile.base64EncodedString())"}"#
            )
            #expect(upload.status == 400, "\(upload.json)")
            #expect("\(upload.json["error"] ?? "")".contains("nested quantifier"), "\(upload.json)")

            // The same egg with a harmless pattern, then changed in place as an old catalogue held it.
            let harmless = try eggArchive(name: "redos2", pattern: "[ab]{1,40}", in: s.data)
            let stored = try await HTTP.call(
                "POST",
                s.base + "/api/eggs/upload",
                key: s.key,
                body: #"{"archive_base64":"\#(harmless.base64EncodedString())"}"#
            )
            #expect(stored.status == 201, "\(stored.json)")
            let sql = Process()
            sql.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sql.arguments = [
                s.data + "/catalog/catalog.sqlite",
                "UPDATE egg_version SET metadata_json = replace(metadata_json, '[ab]{1,40}', '(a+)+b')",
            ]
            try sql.run()
            sql.waitUntilExit()
            #expect(sql.terminationStatus == 0)

            let body = #"{"egg_id":"redos2","cluster_id":1,"instance_name":"redos-1","variables":{"v":"\#(String(repeating: "a", count: 31))"}}"#
            _ = try await HTTP.call("POST", s.base + "/api/deploy?dry_run=true", key: s.key, body: body)  // warm the connections
            let started = ContinuousClock.now
            let dry = try await HTTP.call("POST", s.base + "/api/deploy?dry_run=true", key: s.key, body: body)
            let took = ContinuousClock.now - started
            #expect(dry.status == 400, "\(dry.json)")
            #expect("\(dry.json["error"] ?? "")".contains("nested quantifier"), "\(dry.json)")
            #expect(took < .milliseconds(100), "the dry run took \(took)")

            // Four hostile dry runs at once, then SIGTERM: the renderer stops within its budget.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await HTTP.call("POST", s.base + "/api/deploy?dry_run=true", key: s.key, body: body) } }
                try await group.waitForAll()
            }
            let renderer = s.processes[1]
            kill(renderer.processIdentifier, SIGTERM)
            #expect(try await SystemEnvironment.waitForExit(renderer, timeout: .seconds(5)), "the renderer did not stop within 5 s")
        }
    }

    /// Regression: an upload at the size limit travelled as one AMQP message of 133 MB, above
    /// RabbitMQ's `max_message_size`; the broker closed the gateway's connection and every other
    /// RPC in flight failed with 503. Chunked, the upload is refused on its merits and the 50
    /// other requests succeed.
    @Test func anUploadAtTheSizeLimitLeavesOtherRPCsAlone() async throws {
        try await withStack(timeout: 600) { s in
            let file = s.data + "/big.tgz"
            var random = SystemRandomNumberGenerator()
            var bytes = [UInt8](repeating: 0, count: (100 << 20) - 4096)
            for i in stride(from: 0, to: bytes.count, by: 8) {
                withUnsafeBytes(of: random.next() as UInt64) { word in
                    for k in 0..<min(8, bytes.count - i) { bytes[i + k] = word[k] }
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            bytes = []
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = [
                "-s", "-o", s.data + "/big.out", "-w", "%{http_code}", "-X", "POST", s.base + "/api/eggs/upload",
                "-H", "Authorization: Bearer \(s.key)", "-H", "Content-Type: application/gzip", "--data-binary", "@" + file,
            ]
            let out = Pipe()
            curl.standardOutput = out
            try curl.run()
            try await Task.sleep(for: .milliseconds(300))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(20 * i))
                        return try await HTTP.call("GET", s.base + "/api/eggs/debian-hello", key: s.key).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            let code = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            while curl.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
            #expect(code == "400", "the upload: \(code) \((try? String(contentsOfFile: s.data + "/big.out", encoding: .utf8)) ?? "")")
        }
    }
}
