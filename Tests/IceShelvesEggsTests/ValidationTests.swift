import IceShelvesEggs
import Testing

@Suite("Egg validation")
struct ValidationTests {
    func problems(_ files: [Egg.File: String], name: String? = nil) -> String? {
        do {
            _ = try EggValidator.validate(files: files, expectedName: name)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: ["a", "web-1", "0abc", String(repeating: "a", count: 63)])
    func goodNames(_ name: String) { #expect(EggValidator.isValidName(name)) }

    @Test(arguments: ["", "-a", "A", "a_b", "a.b", "../x", String(repeating: "a", count: 64), "ä"])
    func badNames(_ name: String) { #expect(!EggValidator.isValidName(name)) }

    @Test func versionsAreSemver() {
        #expect(EggValidator.isValidVersion("1.0.0"))
        #expect(EggValidator.isValidVersion("2.10.3-rc.1+build.5"))
        #expect(!EggValidator.isValidVersion("1.0"))
        #expect(!EggValidator.isValidVersion("01.0.0"))
        #expect(!EggValidator.isValidVersion("v1.0.0"))
    }

    @Test func aMinimalEggIsValid() {
        #expect(problems(Fixtures.files(cloudInit: "#cloud-config\nruncmd: [ls]\n")) == nil)
    }

    @Test(arguments: [
        ("runcmd: [ls]\n", "first line must be '#cloud-config'"),
        ("#cloud-config\nruncmds: [ls]\n", "unknown cloud-config key 'runcmds'"),
        ("#cloud-config\npackages: vim\n", "'packages' must be a list"),
        ("#cloud-config\n- a\n- b\n", "top level must be a mapping"),
        ("#cloud-config\nwrite_files:\n  - content: x\n", "write_files[0] needs a 'path'"),
        ("#cloud-config\nruncmd: [ls\n", "not valid YAML"),
        ("#cloud-config\npackage_update: maybe\n", "'package_update' must be true or false"),
    ])
    func badCloudConfigIsExplained(_ text: String, _ expected: String) {
        let p = problems(Fixtures.files(cloudInit: text))
        #expect(p?.contains(expected) == true, "got: \(p ?? "no problem")")
        #expect(p?.contains("cloud-init.yaml") == true)
    }

    @Test func aliasBombIsRefusedQuickly() {
        var text = "#cloud-config\nbootcmd:\n  - &a [x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { text += "  - &a\(i) [" + Array(repeating: i == 1 ? "*a" : "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        let p = problems(Fixtures.files(cloudInit: text))
        #expect(p?.contains("aliases") == true, "got: \(p ?? "accepted")")
    }

    /// Regression: after `"\\"` the pre-scan thought the string was still open and missed every
    /// alias after it.
    @Test func aliasesAfterAnEscapedBackslashAreCounted() {
        let aliases = Array(repeating: "*a", count: YAMLDocument.maxAliases + 1).joined(separator: ", ")
        let text = "#cloud-config\nbootcmd:\n  - \"\\\\\"\n  - &a [x]\n  - [\(aliases)]\n"
        let p = problems(Fixtures.files(cloudInit: text))
        #expect(p?.contains("more than \(YAMLDocument.maxAliases) YAML aliases") == true, "got: \(p ?? "accepted")")
    }

    /// Regression: `''` inside a single-quoted scalar ended it, so a `*` further on counted as an alias.
    @Test func quotedStarsAreNotAliases() {
        let lines = Array(repeating: "  - 'it''s *not an alias'\n  - \"a \\\" *b\"\n", count: YAMLDocument.maxAliases + 1).joined()
        #expect(problems(Fixtures.files(cloudInit: "#cloud-config\nbootcmd:\n" + lines)) == nil)
    }

    @Test func deepNestingIsRefused() {
        let text = "#cloud-config\nbootcmd: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        #expect(problems(Fixtures.files(cloudInit: text))?.contains("nested deeper") == true)
        var block = "#cloud-config\nbootcmd:\n"
        for depth in 0..<200 { block += String(repeating: "  ", count: depth + 1) + "- \n" }
        #expect(problems(Fixtures.files(cloudInit: block)) != nil)
    }

    @Test func hugeFileIsRefused() {
        let text = "#cloud-config\nbootcmd:\n" + String(repeating: "  - echo hello\n", count: 200_000)
        #expect(problems(Fixtures.files(cloudInit: text))?.contains("larger than") == true)
    }

    @Test(arguments: [
        (#"{"name":"x"}"#, "missing field 'version'"),
        ("not json", "not valid JSON"),
        (#"{"name":"x","version":"1.0.0","category":"weird","egg_type":"lxd-container","base_image":"i"}"#, "invalid value for 'category'"),
        (#"{"name":"Bad_Name","version":"1","category":"base","egg_type":"hybrid","base_image":"i"}"#, "must match"),
        (
            #"{"name":"x","version":"1.0.0","category":"base","egg_type":"hybrid","base_image":"i","variables":[{"name":"v","type":"integer","default":"no"}]}"#,
            "default: must be a integer"
        ),
        (
            #"{"name":"x","version":"1.0.0","category":"base","egg_type":"hybrid","base_image":"i","variables":[{"name":"v","pattern":"("}]}"#,
            "pattern has an unclosed '('"
        ),
    ])
    func badMetadataIsExplained(_ json: String, _ expected: String) {
        let p = problems(Fixtures.files(cloudInit: "#cloud-config\n", metadata: json))
        #expect(p?.contains(expected) == true, "got: \(p ?? "no problem")")
    }

    @Test func folderNameMustMatch() {
        #expect(problems(Fixtures.files(cloudInit: "#cloud-config\n"), name: "other")?.contains("differs from the folder name") == true)
    }

    @Test func lxdProfileShape() {
        var files = Fixtures.files(cloudInit: "#cloud-config\n")
        files[.lxdProfile] = "config:\n  limits.cpu: \"2\"\ndevices:\n  eth0:\n    type: nic\n    network: lxdbr0\n"
        #expect(problems(files) == nil)
        files[.lxdProfile] = "config:\n  limits.cpu: [2]\nextra: 1\n"
        let p = problems(files)
        #expect(p?.contains("config.limits.cpu must be a string") == true)
        #expect(p?.contains("unknown key 'extra'") == true)
    }

    @Test func kvmConfigMustBeSafeWellFormedXML() {
        var files = Fixtures.files(cloudInit: "#cloud-config\n")
        files[.kvmConfig] = "<domain><vcpu>2</vcpu></domain>"
        #expect(problems(files) == nil)
        files[.kvmConfig] = "<domain><vcpu>2</domain>"
        #expect(problems(files)?.contains("not well-formed XML") == true)
        files[.kvmConfig] = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><domain>&lol;</domain>"
        #expect(problems(files)?.contains("DOCTYPE") == true)
    }
}
