import Foundation
import Testing
import Yams

@testable import IceshelvesCLI

@Suite("Output formats")
struct RendererTests {
    let items: [JSONValue] = [
        .object(["name": .string("debian-hello"), "version": .string("1.0.0"), "tags": .array([.string("a")]), "size": .number(3)]),
        .object(["name": .string("comma, \"quoted\""), "version": .string("2"), "tags": .array([]), "size": .null]),
    ]

    func render(_ format: OutputFormat, _ columns: [String] = []) throws -> String {
        Renderer(format: format, columns: try Columns.parse(columns, defaults: ["name", "version"])).list(items)
    }

    @Test func aTableIsAlignedWithAHeader() throws {
        let lines = try render(.table).split(separator: "\n")
        #expect(lines[0] == "NAME             VERSION")
        #expect(lines[1] == "debian-hello     1.0.0")
        #expect(lines[2] == "comma, \"quoted\"  2")
    }

    @Test func csvQuotesWhatNeedsIt() throws {
        #expect(try render(.csv) == "name,version\r\ndebian-hello,1.0.0\r\n\"comma, \"\"quoted\"\"\",2\r\n")
    }

    @Test func columnsPickFieldsInEveryFormat() throws {
        #expect(try render(.table, ["size"]) == "SIZE\n3\n\n")
        #expect(try render(.csv, ["name,size"]).hasPrefix("name,size\r\ndebian-hello,3\r\n"))
        let json = try JSONValue.parse(Data(try render(.json, ["size"]).utf8))
        #expect(json == .array([.object(["size": .number(3)]), .object(["size": .null])]))
        let yaml = try #require(try Yams.load(yaml: try render(.yaml, ["name"])) as? [[String: Any]])
        #expect(yaml.map { $0["name"] as? String } == ["debian-hello", "comma, \"quoted\""])
    }

    @Test func jsonWithoutColumnsKeepsWholeObjects() throws {
        #expect(try JSONValue.parse(Data(try render(.json).utf8)) == .array(items))
    }

    @Test func yamlReadsBackAsTheSameValues() throws {
        let hostile: JSONValue = .object([
            "plain": .string("debian-hello"), "yes": .string("yes"), "num": .string("123"), "colon": .string("a: b"),
            "multi": .string("line1\nline2"), "empty": .string(""), "n": .number(2.5), "b": .bool(false), "nil": .null,
            "list": .array([.object(["k": .string("v"), "k2": .array([.string("x")])]), .array([.string("y")])]),
            "nested": .object(["inner": .object(["deep": .string("#comment")])]),
        ])
        let text = YAMLWriter.render(hostile)
        let back = try #require(try Yams.load(yaml: text) as? [String: Any], "\(text)")
        #expect(back["yes"] as? String == "yes")
        #expect(back["num"] as? String == "123")
        #expect(back["colon"] as? String == "a: b")
        #expect(back["multi"] as? String == "line1\nline2")
        #expect(back["empty"] as? String == "")
        #expect(back["n"] as? Double == 2.5)
        #expect(back["b"] as? Bool == false)
        #expect(back["plain"] as? String == "debian-hello")
        let list = try #require(back["list"] as? [Any], "\(text)")
        #expect((list[0] as? [String: Any])?["k"] as? String == "v")
        #expect((list[1] as? [String]) == ["y"])
        #expect(((back["nested"] as? [String: Any])?["inner"] as? [String: Any])?["deep"] as? String == "#comment")
    }

    @Test func aShowTableListsFieldsVertically() throws {
        let r = Renderer(format: .table, columns: try Columns.parse([], defaults: ["name"]))
        let text = r.item(.object(["name": .string("x"), "status": .string("completed"), "logs": .array([.string("long")])]))
        #expect(text == "NAME:    x\nSTATUS:  completed\n")
    }

    @Test func controlCharactersNeverReachATable() {
        let text = TextTable(header: ["A"], rows: [["evil\u{1B}[2Jline\nnext\u{9B}"]]).render()
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B })
        #expect(text == "A\nevil?[2Jline next?\n")
    }

    @Test func badColumnsAreRefused() {
        #expect(throws: CLIError.self) { try Columns.parse(["name;rm"], defaults: ["name"]) }
    }
}
