import ArgumentParser
import Foundation

/// `iceshelves egg list|show|create|upload|versions`.
struct EggCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "egg",
        abstract: "Browse, create and upload eggs.",
        subcommands: [List.self, Show.self, Versions.self, Create.self, Upload.self]
    )

    static let listColumns = ["name", "version", "category", "egg_type", "description"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List eggs (GET /api/eggs).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var paging: PageOptions
        @Option(help: "Only this category.") var category: String?
        @Option(help: "Only eggs whose name or description contains this text.") var search: String?

        func run() async throws {
            let data = try await GatewayClient(connection).call(
                "GET",
                "eggs",
                query: paging.query.merging(["category": category, "search": search]) { $1 }
            )
            try output.printList(data["eggs"]?.array ?? [], defaults: EggCommand.listColumns)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one egg (GET /api/eggs/{id}).",
            discussion: "The table shows the egg's fields; -c files.cloud_init prints its cloud-init, -c files.readme its README."
        )
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The egg's name or id.") var egg: String

        func run() async throws {
            let data = try await GatewayClient(connection).call("GET", "eggs/\(DeploymentWatcher.escape(egg))")
            try output.printItem(data, defaults: ["id", "name", "version", "content_hash", "category", "egg_type", "base_image", "description"])
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an egg's versions with their content hash.")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The egg's name or id.") var egg: String

        func run() async throws {
            let data = try await GatewayClient(connection).call("GET", "eggs/\(DeploymentWatcher.escape(egg))/versions")
            try output.printList(data["versions"]?.array ?? data.array ?? [], defaults: ["version", "content_hash", "created_at", "is_current"])
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an egg from a template (POST /api/eggs).",
            discussion: "Example: iceshelves egg create hello2 --template debian-hello --var greeting=hi"
        )
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The new egg's name.") var name: String
        @Option(help: "The template's name or id.") var template: String
        @Option(help: "The new egg's description.") var description: String?
        @Option(help: "The new egg's category.") var category: String?
        @Option(name: .customLong("var"), help: ArgumentHelp("A template variable, name=value (repeatable).", valueName: "name=value"))
        var variables: [String] = []

        func run() async throws {
            let client = try GatewayClient(connection)
            let assignments = try variables.map(VariableAssignment.parse)
            var types: [String: String] = [:]
            if !assignments.isEmpty {
                let templates = try await client.call("GET", "templates")
                let t = (templates["templates"]?.array ?? templates.array ?? []).first {
                    $0["name"]?.string == template || $0["id"]?.cellText == template
                }
                for v in t?["variables"]?.array ?? [] { if let n = v["name"]?.string { types[n] = v["type"]?.string } }
            }
            var vars: [String: JSONValue] = [:]
            for a in assignments { vars[a.name] = JSONValue(try a.value(as: types[a.name])) }
            var body: [String: JSONValue] = ["name": .string(name), "template_id": .string(template), "variables": .object(vars)]
            if let description { body["description"] = .string(description) }
            if let category { body["category"] = .string(category) }
            let data = try await client.call("POST", "eggs", json: .object(body))
            try output.printItem(data, defaults: ["egg_id", "name", "version", "message"])
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload an egg (POST /api/eggs/upload).",
            discussion: "Takes a .tar.gz of one egg folder, or the folder itself (packed with tar)."
        )
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: ArgumentHelp("An egg folder or a .tar.gz of one.", valueName: "path"), completion: .file())
        var path: String

        func run() async throws {
            let archive = try Self.archive(path)
            let data = try await GatewayClient(connection).call("POST", "eggs/upload", raw: archive, contentType: "application/gzip")
            try output.printItem(data, defaults: ["egg_id", "name", "version", "message"])
        }

        static func archive(_ path: String) throws -> Data {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("no such file or folder: \(path)") }
            guard isDir.boolValue else {
                guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
                return data
            }
            let url = URL(fileURLWithPath: path).standardizedFileURL
            let tar = Process()
            tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tar.arguments = ["tar", "-czf", "-", "-C", url.deletingLastPathComponent().path, url.lastPathComponent]
            let out = Pipe()
            tar.standardOutput = out
            try tar.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            tar.waitUntilExit()
            guard tar.terminationStatus == 0 else { throw CLIError("tar could not pack \(path)") }
            return data
        }
    }
}
