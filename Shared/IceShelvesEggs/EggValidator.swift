import Foundation
import Yams

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Checks an egg's files and builds an ``Egg``, or reports every problem with its file.
public enum EggValidator {
    /// `[a-z0-9][a-z0-9-]{0,62}`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        guard isLowerAlnum(first) else { return false }
        return name.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlnum(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
    }

    /// Semantic versioning: `MAJOR.MINOR.PATCH` with optional pre-release and build parts.
    public static func isValidVersion(_ v: String) -> Bool {
        v.wholeMatch(of: /(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})(-[0-9A-Za-z.-]{1,64})?(\+[0-9A-Za-z.-]{1,64})?/) != nil
    }

    /// Validates the files of one egg. `expectedName` is the folder name, when there is one.
    public static func validate(files: [Egg.File: String], expectedName: String? = nil) throws -> Egg {
        let label = expectedName ?? "(unnamed)"
        var problems: [EggError] = []
        guard let metadataText = files[.metadata] else {
            throw EggValidationError(egg: label, problems: [EggError("metadata.json", "missing")])
        }
        guard let cloudInit = files[.cloudInit] else {
            throw EggValidationError(egg: label, problems: [EggError("cloud-init.yaml", "missing")])
        }
        let metadata: EggMetadata
        do {
            metadata = try JSONDecoder().decode(EggMetadata.self, from: Data(metadataText.utf8))
        } catch {
            throw EggValidationError(egg: label, problems: [EggError("metadata.json", describe(error))])
        }
        problems += metadataProblems(metadata, expectedName: expectedName)
        problems += cloudInitProblems(cloudInit)
        if let profile = files[.lxdProfile] { problems += lxdProfileProblems(profile) }
        if let xml = files[.kvmConfig] { problems += kvmConfigProblems(xml) }
        guard problems.isEmpty else { throw EggValidationError(egg: expectedName ?? metadata.name, problems: problems) }
        return Egg(metadata: metadata, files: files)
    }

    static func metadataProblems(_ m: EggMetadata, expectedName: String?) -> [EggError] {
        var p: [EggError] = []
        let f = "metadata.json"
        if !isValidName(m.name) { p.append(EggError(f, "name '\(m.name.prefix(80))' must match [a-z0-9][a-z0-9-]{0,62}")) }
        if let expectedName, expectedName != m.name {
            p.append(EggError(f, "name '\(m.name.prefix(80))' differs from the folder name '\(expectedName)'"))
        }
        if !isValidVersion(m.version) { p.append(EggError(f, "version '\(m.version.prefix(40))' is not semantic versioning (for example 1.0.0)")) }
        if m.baseImage.isEmpty || m.baseImage.count > 255
            || m.baseImage.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } ?? false })
        {
            p.append(EggError(f, "base_image must be 1-255 characters without spaces"))
        }
        if m.description.count > 4096 { p.append(EggError(f, "description is longer than 4096 characters")) }
        if (m.displayName?.count ?? 0) > 256 { p.append(EggError(f, "display_name is longer than 256 characters")) }
        if m.tags.count > 64 || m.tags.contains(where: { $0.isEmpty || $0.count > 64 }) {
            p.append(EggError(f, "tags: at most 64, each 1-64 characters"))
        }
        if m.features.count > 128 { p.append(EggError(f, "features: at most 128")) }
        if let r = m.requirements {
            for (name, v) in [("min_memory_mb", r.minMemoryMB), ("min_disk_gb", r.minDiskGB), ("min_cores", r.minCores)] {
                if let v, v < 0 || v > 16_777_216 { p.append(EggError(f, "requirements.\(name) must be between 0 and 16777216")) }
            }
        }
        var seen = Set<String>()
        for v in m.variables {
            if v.name.wholeMatch(of: /[a-z_][a-z0-9_]{0,63}/) == nil {
                p.append(EggError(f, "variable name '\(v.name.prefix(64))' must match [a-z_][a-z0-9_]{0,63}"))
            }
            if !seen.insert(v.name).inserted { p.append(EggError(f, "variable '\(v.name)' is declared twice")) }
            if let pattern = v.pattern {
                do { _ = try SafePattern(pattern) } catch { p.append(EggError(f, "variable '\(v.name)': pattern \(error)")) }
            }
            if let d = v.default, let problem = VariableResolver.problem(with: d, for: v) {
                p.append(EggError(f, "variable '\(v.name)' default: \(problem)"))
            }
        }
        if m.variables.count > 128 { p.append(EggError(f, "at most 128 variables")) }
        return p
    }

    /// The problems of a `cloud-init.yaml` text: header, YAML limits, keys and types.
    public static func cloudConfigProblems(_ text: String) -> [EggError] { cloudInitProblems(text) }

    static func cloudInitProblems(_ text: String) -> [EggError] {
        let f = "cloud-init.yaml"
        guard text.hasPrefix("#cloud-config\n") || text == "#cloud-config" || text.hasPrefix("#cloud-config\r\n") else {
            return [EggError(f, "the first line must be '#cloud-config'")]
        }
        do {
            let node = try YAMLDocument.load(text, file: f)
            return CloudConfigSchema.problems(in: node, file: f)
        } catch let e as EggError {
            return [e]
        } catch {
            return [EggError(f, "not valid YAML")]
        }
    }

    static func lxdProfileProblems(_ text: String) -> [EggError] {
        let f = "lxd-profile.yaml"
        let node: Node?
        do { node = try YAMLDocument.load(text, file: f) } catch let e as EggError { return [e] } catch { return [EggError(f, "not valid YAML")] }
        guard let node else { return [] }
        guard case .mapping(let m) = node else { return [EggError(f, "must be a mapping with config, devices and description")] }
        var p: [EggError] = []
        for (k, v) in m {
            switch k.scalar?.string {
            case "config":
                guard case .mapping(let config) = v else {
                    p.append(EggError(f, "config must be a mapping of strings"))
                    continue
                }
                for (ck, cv) in config where ck.scalar == nil || cv.scalar == nil {
                    p.append(EggError(f, "config.\(ck.scalar?.string ?? "?") must be a string"))
                }
            case "devices":
                guard case .mapping(let devices) = v else {
                    p.append(EggError(f, "devices must be a mapping of devices"))
                    continue
                }
                for (dk, dv) in devices {
                    guard case .mapping(let props) = dv, props.allSatisfy({ $0.key.scalar != nil && $0.value.scalar != nil }) else {
                        p.append(EggError(f, "devices.\(dk.scalar?.string ?? "?") must be a mapping of strings"))
                        continue
                    }
                    if props["type"]?.scalar == nil { p.append(EggError(f, "devices.\(dk.scalar?.string ?? "?") needs a type")) }
                }
            case "description", "name":
                if v.scalar == nil { p.append(EggError(f, "\(k.scalar!.string) must be a string")) }
            case let other:
                p.append(EggError(f, "unknown key '\((other ?? "?").prefix(64))' (allowed: config, devices, description, name)"))
            }
        }
        return p
    }

    static func kvmConfigProblems(_ text: String) -> [EggError] {
        let f = "kvm-config.xml"
        guard text.utf8.count <= 1_048_576 else { return [EggError(f, "larger than 1 MiB")] }
        // No document type declarations: they are how entity-expansion attacks start.
        if text.range(of: "<!DOCTYPE", options: .caseInsensitive) != nil || text.range(of: "<!ENTITY", options: .caseInsensitive) != nil {
            return [EggError(f, "DOCTYPE and ENTITY declarations are not allowed")]
        }
        let parser = XMLParser(data: Data(text.utf8))
        parser.shouldResolveExternalEntities = false
        let delegate = XMLCheck()
        parser.delegate = delegate
        guard parser.parse(), !delegate.failed, delegate.stack.isEmpty, delegate.sawRoot else {
            let line = parser.lineNumber
            return [EggError(f, "not well-formed XML near line \(line)")]
        }
        if delegate.depth > 64 { return [EggError(f, "nested deeper than 64 elements")] }
        return []
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            "wrong type for '\(ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "."))'"
        case DecodingError.dataCorrupted(let ctx):
            ctx.codingPath.isEmpty
                ? "not valid JSON"
                : "invalid value for '\(ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "."))': \(ctx.debugDescription.prefix(120))"
        default: "not valid JSON"
        }
    }
}

/// Tracks element depth while the XML is parsed.
/// Tracks element nesting while the XML is parsed; the parser alone tolerates some breakage.
private final class XMLCheck: NSObject, XMLParserDelegate {
    var depth = 0
    var stack: [String] = []
    var failed = false
    var sawRoot = false
    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        if stack.isEmpty && sawRoot { failed = true }  // a second root element
        sawRoot = true
        stack.append(elementName)
        depth = max(depth, stack.count)
        if stack.count > 64 { parser.abortParsing() }
    }
    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if stack.popLast() != elementName { failed = true }
    }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) { failed = true }
}
