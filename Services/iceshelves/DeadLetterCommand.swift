import ArgumentParser

/// `iceshelves dead-letter list|requeue|drop` (admin).
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letter",
        abstract: "Jobs the bus gave up on: list, requeue or drop them (admin).",
        subcommands: [List.self, Requeue.self, Drop.self]
    )

    /// An id is one path segment: letters, digits and dashes.
    static func check(_ id: String) throws {
        guard (1...64).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw ValidationError("a dead letter's id is letters, digits and dashes, like dl-0123456789abcdef")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead-lettered jobs, newest first (GET /api/admin/dead-letters).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var paging: PageOptions

        func run() async throws {
            let data = try await GatewayClient(connection).call("GET", "admin/dead-letters", query: paging.query)
            try output.printList(
                data["dead_letters"]?.array ?? [],
                defaults: ["id", "queue", "deployment_id", "deployment_status", "reason", "count", "dead_at"]
            )
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a dead-lettered job back on its queue (POST /api/admin/dead-letters/{id}/requeue)."
        )
        @OptionGroup var connection: GatewayOptions
        @Argument(help: "The dead letter's id (dl-…).") var id: String

        func validate() throws { try DeadLetterCommand.check(id) }

        func run() async throws {
            let data = try await GatewayClient(connection).call("POST", "admin/dead-letters/\(id)/requeue")
            print(TextTable.clean(data["message"]?.string ?? "requeued"))
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop a dead-lettered job (DELETE /api/admin/dead-letters/{id}).")
        @OptionGroup var connection: GatewayOptions
        @Argument(help: "The dead letter's id (dl-…).") var id: String

        func validate() throws { try DeadLetterCommand.check(id) }

        func run() async throws {
            let data = try await GatewayClient(connection).call("DELETE", "admin/dead-letters/\(id)")
            print(TextTable.clean(data["message"]?.string ?? "dropped"))
        }
    }
}
