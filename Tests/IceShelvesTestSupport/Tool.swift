import Foundation

/// Runs real command-line tools from tests (cloud-init, isoinfo, tar, python3).
public enum Tool {
    /// Runs `path` with `arguments`; returns the exit status and the combined output.
    /// It polls instead of `waitUntilExit`, which spins a run loop that must not run on the
    /// concurrency pool.
    public static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { usleep(5_000) }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether the real cloud-config validator should run (scripts/test sets it).
    public static let cloudInitAvailable = ProcessInfo.processInfo.environment["ICESHELVES_TEST_CLOUD_INIT"] == "1"

    /// Runs Debian's `cloud-init schema --config-file` on `userData`.
    public static func cloudInitSchema(_ userData: String) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("user-data-\(UUID().uuidString)")
        try userData.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run("/usr/bin/cloud-init", ["schema", "--config-file", file.path])
    }

    /// The repository's `eggs/` folder, found from a test file's path.
    public static func eggsFolder(from filePath: String = #filePath) -> String {
        var url = URL(fileURLWithPath: filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("eggs")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("debian-hello").path) { return candidate.path }
        }
        return "eggs"
    }
}
