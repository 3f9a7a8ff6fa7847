import Foundation
import IceShelvesEggs

/// Paths and helpers shared by the egg tests.
enum Fixtures {
    /// The repository's `eggs/` folder.
    static let eggsFolder: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("eggs").path
    }()

    static let builtIn = ["debian-hello", "ubuntu-base", "ubuntu-docker", "ubuntu-k8s-node", "ubuntu-nginx"]

    static func metadata(name: String = "test-egg", variables: String = "[]") -> String {
        #"{"name":"\#(name)","version":"1.0.0","description":"d","category":"custom","egg_type":"lxd-container","base_image":"ubuntu/24.04","variables":\#(variables)}"#
    }

    static func files(cloudInit: String, metadata: String = metadata()) -> [Egg.File: String] {
        [.metadata: metadata, .cloudInit: cloudInit]
    }

    /// Whether the real `cloud-init schema` should be run (scripts/test sets it).
    static let cloudInitAvailable = ProcessInfo.processInfo.environment["ICESHELVES_TEST_CLOUD_INIT"] == "1"

    /// Runs `cloud-init schema --config-file` on `text`; returns its exit status and output.
    static func cloudInitSchema(_ text: String) throws -> (Int32, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ci-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("user-data")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/cloud-init")
        p.arguments = ["schema", "--config-file", file.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        while p.isRunning { usleep(10_000) }
        return (p.terminationStatus, out)
    }
}
