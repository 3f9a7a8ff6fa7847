import ArgumentParser
import Foundation

/// `iceshelves cluster list|show|add|test|remove|warm-pools`.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Register, test and remove clusters; set their warm pools.",
        subcommands: [List.self, Show.self, Add.self, Test.self, Remove.self, WarmPools.self]
    )

    /// A cluster's id from its id or name.
    static func resolve(_ ref: String, _ client: GatewayClient) async throws -> String {
        if Int(ref) != nil { return ref }
        let data = try await client.call("GET", "clusters")
        guard let c = (data["clusters"]?.array ?? []).first(where: { $0["name"]?.string == ref }), let id = c["id"]?.int else {
            throw CLIError("no cluster named \(ref.prefix(60))")
        }
        return String(id)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List clusters with their health (GET /api/clusters).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let data = try await GatewayClient(connection).call("GET", "clusters")
            try output.printList(data["clusters"]?.array ?? [], defaults: ["id", "name", "hypervisor", "connection_method", "status", "last_check"])
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one cluster (GET /api/clusters/{id}).")
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The cluster's name or id.") var cluster: String

        func run() async throws {
            let client = try GatewayClient(connection)
            let data = try await client.call("GET", "clusters/\(try await ClusterCommand.resolve(cluster, client))")
            try output.printItem(data, defaults: ["id", "name", "connection_method", "endpoint_url", "status", "last_check"])
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a cluster (POST /api/clusters, admin).",
            discussion: """
                direct-api: --endpoint-url, --client-cert FILE, --client-key FILE, and --server-cert FILE or \
                --server-fingerprint, or --no-verify-ssl. ssh: --ssh-host, --ssh-user, --ssh-key FILE [--ssh-port, \
                --ssh-host-key-fingerprint, --socket-path]. unix-socket: --socket-path. agent-poll: prints the agent \
                key once. libvirt (a KVM cluster): --libvirt-uri [--storage-pool, --network, --domain-type]; \
                qemu+ssh also --ssh-key FILE and --ssh-public-host-key; qemu+tls also --client-cert, --client-key and --ca-cert.
                """
        )
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The cluster's name.") var name: String
        @Option(help: ArgumentHelp("direct-api, ssh, unix-socket, agent-poll or libvirt (KVM).", valueName: "method"))
        var method: String
        @Option(help: "A description.") var description: String?
        @Option(name: .customLong("endpoint-url"), help: "direct-api: https://host:8443.") var endpointURL: String?
        @Option(name: .customLong("client-cert"), help: "direct-api: the client certificate (PEM file).", completion: .file())
        var clientCert: String?
        @Option(name: .customLong("client-key"), help: "direct-api: the client key (PEM file).", completion: .file())
        var clientKey: String?
        @Option(name: .customLong("server-cert"), help: "direct-api: the server's certificate (PEM file).", completion: .file())
        var serverCert: String?
        @Option(name: .customLong("server-fingerprint"), help: "direct-api: the server certificate's SHA-256.") var serverFingerprint: String?
        @Flag(name: .customLong("no-verify-ssl"), help: "direct-api: do not verify the server's certificate.") var noVerify = false
        @Option(name: .customLong("ssh-host"), help: "ssh: the host.") var sshHost: String?
        @Option(name: .customLong("ssh-port"), help: "ssh: the port.") var sshPort: Int?
        @Option(name: .customLong("ssh-user"), help: "ssh: the user.") var sshUser: String?
        @Option(name: .customLong("ssh-key"), help: "ssh: the private key (file).", completion: .file()) var sshKey: String?
        @Option(name: .customLong("ssh-host-key-fingerprint"), help: "ssh: the host key's SHA256 fingerprint.") var sshHostKey: String?
        @Option(name: .customLong("socket-path"), help: "unix-socket and ssh: LXD's socket.") var socketPath: String?
        @Option(name: .customLong("poll-interval"), help: "agent-poll: seconds between polls.") var pollInterval: Int?
        @Option(name: .customLong("libvirt-uri"), help: "libvirt: qemu:///system, qemu+ssh://user@host/system or qemu+tls://host/system.")
        var libvirtURI: String?
        @Option(name: .customLong("storage-pool"), help: "libvirt: the storage pool (default: default).") var storagePool: String?
        @Option(name: .customLong("network"), help: "libvirt: the VMs' network (default: default).") var network: String?
        @Option(name: .customLong("domain-type"), help: "libvirt: kvm (default) or qemu.") var domainType: String?
        @Option(name: .customLong("ssh-public-host-key"), help: "libvirt over qemu+ssh: the host key as in known_hosts ('ssh-ed25519 AAAA…').")
        var sshPublicHostKey: String?
        @Option(name: .customLong("ca-cert"), help: "libvirt over qemu+tls: the CA's certificate (PEM file).", completion: .file()) var caCert:
            String?

        func run() async throws {
            var body: [String: JSONValue] = ["name": .string(name), "connection_method": .string(method)]
            func put(_ key: String, _ v: String?) { if let v { body[key] = .string(v) } }
            func file(_ key: String, _ path: String?) throws {
                guard let path else { return }
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("cannot read \(path)") }
                body[key] = .string(text)
            }
            put("description", description)
            put("endpoint_url", endpointURL)
            try file("client_cert", clientCert)
            try file("client_key", clientKey)
            try file("server_cert", serverCert)
            put("server_fingerprint", serverFingerprint)
            if noVerify { body["verify_ssl"] = .bool(false) }
            put("ssh_host", sshHost)
            if let sshPort { body["ssh_port"] = .number(Double(sshPort)) }
            put("ssh_user", sshUser)
            try file("ssh_key", sshKey)
            put("ssh_host_key_fingerprint", sshHostKey)
            put("socket_path", socketPath)
            if let pollInterval { body["agent_poll_interval"] = .number(Double(pollInterval)) }
            if method == "libvirt" { body["hypervisor"] = .string("kvm") }
            put("libvirt_uri", libvirtURI)
            put("storage_pool", storagePool)
            put("network", network)
            put("domain_type", domainType)
            put("ssh_host_key", sshPublicHostKey)
            try file("ca_cert", caCert)
            let data = try await GatewayClient(connection).call("POST", "clusters", json: .object(body))
            try output.printItem(data, defaults: data["agent_key"] == nil ? ["cluster_id", "message"] : ["cluster_id", "message", "agent_key"])
            if data["agent_key"] != nil, output.format == .table {
                print("The agent key is shown only this once: give it to iceshelves-agent on the cluster's host (ICESHELVES_AGENT_KEY).")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Test the connection to a cluster (POST /api/clusters/{id}/test).",
            discussion: "Exits 1 when the cluster did not answer."
        )
        @OptionGroup var connection: GatewayOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The cluster's name or id.") var cluster: String

        func run() async throws {
            let client = try GatewayClient(connection)
            let data = try await client.call("POST", "clusters/\(try await ClusterCommand.resolve(cluster, client))/test")
            try output.printItem(data, defaults: ["status", "details.message", "details.server_version", "details.api_version"])
            if data["status"]?.string != "active" { throw ExitCode(1) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a cluster (DELETE /api/clusters/{id}, admin).")
        @OptionGroup var connection: GatewayOptions
        @Argument(help: "The cluster's name or id.") var cluster: String

        func run() async throws {
            let client = try GatewayClient(connection)
            let data = try await client.call("DELETE", "clusters/\(try await ClusterCommand.resolve(cluster, client))")
            print(TextTable.clean(data["message"]?.string ?? "removed"))
        }
    }
}
