import Foundation
import IceShelvesContracts
import IceShelvesEggs

/// Makes a new egg from a template egg and the caller's variables.
///
/// The template's declared variables are checked (types, patterns, required) and rendered into
/// its YAML files structurally ( ``TemplateRenderer`` ), into its README as text and into its KVM
/// fragment XML-escaped. The new egg starts at version 1.0.0 and declares no variables: every
/// placeholder has been filled.
enum TemplateInstantiator {
    static func instantiate(_ template: Egg, request: EggCreateFromTemplateRequest) throws -> Egg {
        guard EggValidator.isValidName(request.name) else {
            throw CatalogError.badRequest("name '\(request.name.prefix(64))' must match [a-z0-9][a-z0-9-]{0,62}")
        }
        let values = try VariableResolver.resolve(request.variables, declared: template.metadata.variables)
        var files: [Egg.File: String] = [:]
        files[.cloudInit] = try TemplateRenderer.render(yaml: template.cloudInit, values: values, file: "cloud-init.yaml", header: "#cloud-config")
        if let profile = template.files[.lxdProfile] {
            files[.lxdProfile] = try TemplateRenderer.render(yaml: profile, values: values, file: "lxd-profile.yaml")
        }
        if let xml = template.files[.kvmConfig] { files[.kvmConfig] = TemplateRenderer.renderText(xml, values: values, escapeXML: true) }
        if let readme = template.files[.readme] { files[.readme] = TemplateRenderer.renderText(readme, values: values, escapeXML: false) }

        var metadata = template.metadata
        metadata.name = request.name
        metadata.version = "1.0.0"
        metadata.displayName = request.displayName ?? request.name
        metadata.description = request.description ?? "Made from the template \(template.metadata.name)."
        if let category = request.category {
            guard let c = EggCategory(rawValue: category) else {
                throw CatalogError.badRequest("category must be one of \(EggCategory.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            metadata.category = c
        }
        metadata.created = String(Date().formatted(.iso8601).prefix(10))
        metadata.variables = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        files[.metadata] = String(decoding: try encoder.encode(metadata), as: UTF8.self) + "\n"
        return try EggValidator.validate(files: files, expectedName: request.name)
    }
}
