import IceShelvesContracts
import IceShelvesEggs
import Testing
import Yams

@Suite("Variables and templates")
struct TemplateRendererTests {
    static let declared = [
        EggVariable(name: "hostname", type: .string, default: .string("h"), pattern: "[a-z0-9-]{1,63}"),
        EggVariable(name: "motd", type: .string, default: .string("hi")),
        EggVariable(name: "keys", type: .list, default: .list([])),
        EggVariable(name: "port", type: .integer, default: .integer(80)),
        EggVariable(name: "debug", type: .boolean, default: .boolean(false)),
        EggVariable(name: "size", type: .string, required: true, allowed: ["s", "m"]),
    ]

    static let template = """
        #cloud-config
        hostname: "{{ hostname }}"
        write_files:
          - path: /etc/motd
            content: "{{ motd }}"
          - path: /etc/banner
            content: "Welcome to {{ hostname }}: {{ motd }}"
        ssh_authorized_keys:
          - "{{ keys }}"
        bootcmd:
          - ["echo", "{{ port }}", "{{ debug }}"]
        """

    @Test func resolverChecksEverything() {
        #expect(throws: EggValidationError.self) { try VariableResolver.resolve([:], declared: Self.declared) }  // size is required
        #expect(throws: EggValidationError.self) { try VariableResolver.resolve(["size": .string("xl")], declared: Self.declared) }
        #expect(throws: EggValidationError.self) {
            try VariableResolver.resolve(["size": .string("s"), "nope": .string("x")], declared: Self.declared)
        }
        #expect(throws: EggValidationError.self) {
            try VariableResolver.resolve(["size": .string("s"), "hostname": .string("Bad Host")], declared: Self.declared)
        }
        #expect(throws: EggValidationError.self) {
            try VariableResolver.resolve(["size": .string("s"), "port": .string("80")], declared: Self.declared)
        }
        #expect(throws: EggValidationError.self) {
            try VariableResolver.resolve(["size": .string("s"), "motd": .string("a\u{1}b")], declared: Self.declared)
        }
        let ok = try? VariableResolver.resolve(["size": .string("m")], declared: Self.declared)
        #expect(ok?["hostname"] == .string("h"))
        #expect(ok?["port"] == .integer(80))
    }

    static let hostile = [
        "x\nruncmd: [rm -rf /]", "a: b", "# comment", "{evil: true}", "---\nnew: doc", "'single'", "\"double\"",
        "&anchor x", "*alias", "- item", "[1, 2]", "|\n  block", "${HOME} $(id) `id`", "\\\" : \\n", "true", "123", "null", "~",
        "key: value\n- list", "\u{2028}line separator", "emoji 🐧", "%YAML 1.1",
    ]

    @Test(arguments: hostile)
    func hostileValuesStayLiteralStrings(_ value: String) throws {
        let values: [String: VariableValue] = [
            "hostname": .string("h"), "motd": .string(value), "keys": .list([value, "second"]), "port": .integer(8080), "debug": .boolean(true),
            "size": .string("s"),
        ]
        let out = try TemplateRenderer.render(yaml: Self.template, values: values, file: "t", header: "#cloud-config")
        let root = try #require(try Yams.compose(yaml: out))
        let top = try #require(root.mapping)
        #expect(top.keys.compactMap(\.string).sorted() == ["bootcmd", "hostname", "ssh_authorized_keys", "write_files"])
        let files = try #require(top["write_files"]?.sequence)
        #expect(files.count == 2)
        #expect(files[0].mapping?.keys.compactMap(\.string).sorted() == ["content", "path"])
        #expect(files[0].mapping?["content"]?.string == value)
        #expect(files[1].mapping?["content"]?.string == "Welcome to h: \(value)")
        let keys = try #require(top["ssh_authorized_keys"]?.sequence)
        #expect(keys.map(\.string) == [value, "second"])
        let cmd = try #require(top["bootcmd"]?.sequence?.first?.sequence)
        #expect(cmd[1].int == 8080)
        #expect(cmd[2].bool == true)
        // One document only.
        #expect(try Yams.compose_all(yaml: out).reduce(0) { n, _ in n + 1 } == 1)
    }

    @Test func renderingIsDeterministic() throws {
        let values: [String: VariableValue] = [
            "hostname": .string("h"), "motd": .string("m"), "keys": .list(["k"]), "port": .integer(1), "debug": .boolean(false), "size": .string("s"),
        ]
        let a = try TemplateRenderer.render(yaml: Self.template, values: values, file: "t", header: "#cloud-config")
        let b = try TemplateRenderer.render(yaml: Self.template, values: values, file: "t", header: "#cloud-config")
        #expect(a == b)
    }

    @Test func undeclaredPlaceholderIsAnError() {
        #expect(throws: EggValidationError.self) {
            try TemplateRenderer.render(yaml: "a: \"{{ missing }}\"\n", values: [:], file: "t")
        }
    }

    @Test func keysAreNeverSubstituted() throws {
        let out = try TemplateRenderer.render(yaml: "\"{{ k }}\": 1\n", values: ["k": .string("evil")], file: "t")
        #expect(out.contains("{{ k }}"))
    }
}
