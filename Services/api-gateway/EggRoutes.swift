import Foundation
import Hummingbird
import IceShelvesContracts

/// Eggs, templates, versions and uploads: the catalogue, asked over the bus.
struct EggRoutes {
    let gateway: Gateway

    struct EggList: Encodable {
        var eggs: [EggSummary]
        var total: Int
        var page: Int
        var perPage: Int
        var totalPages: Int
        enum CodingKeys: String, CodingKey {
            case eggs, total, page
            case perPage = "per_page"
            case totalPages = "total_pages"
        }
    }

    struct EggDetailBody: Encodable {
        var egg: EggSummary
        var cloudInitPath: String
        var metadataJSON: String
        var files: [String: String]

        func encode(to encoder: any Encoder) throws {
            try egg.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(cloudInitPath, forKey: .cloudInitPath)
            try c.encode(metadataJSON, forKey: .metadataJSON)
            try c.encode(files, forKey: .files)
        }
        enum Keys: String, CodingKey {
            case files
            case cloudInitPath = "cloud_init_path"
            case metadataJSON = "metadata_json"
        }

        init(_ d: EggDetail) {
            egg = d.egg
            cloudInitPath = "eggs/\(d.egg.name)/cloud-init.yaml"
            metadataJSON = d.metadataJSON
            var f: [String: String] = [:]
            for (name, text) in d.files {
                switch name {
                case "cloud-init.yaml": f["cloud_init"] = text
                case "README.md": f["readme"] = text
                case "lxd-profile.yaml": f["lxd_profile"] = text
                case "kvm-config.xml": f["kvm_config"] = text
                default: f[name] = text
                }
            }
            files = f
        }
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("eggs") { request, context -> Response in
            _ = try context.require(.viewer)
            let p = try Pagination(request)
            let q = request.uri.queryParameters
            var eggType: EggType?
            if let t = q["egg_type"].map(String.init) {
                guard let known = EggType(rawValue: t) else {
                    throw APIError.badRequest("egg_type must be one of \(EggType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                eggType = known
            }
            let listRequest = EggListRequest(
                category: q["category"].map(String.init),
                eggType: eggType,
                tag: q["tag"].map(String.init),
                search: q["search"].map(String.init),
                page: p.page,
                perPage: p.perPage
            )
            let cacheKey =
                "list \(listRequest.category ?? "") \(listRequest.eggType?.rawValue ?? "") \(listRequest.tag ?? "") \(listRequest.search ?? "") \(p.page) \(p.perPage)"
            let body = try await gateway.eggListCache.get(cacheKey) {
                let page = try await gateway.catalog.list(listRequest)
                let list = EggList(eggs: page.eggs, total: page.total, page: page.page, perPage: page.perPage, totalPages: page.totalPages)
                guard let body = JSONBody.successBody(list) else { throw APIError(.internalServerError, "cannot encode the egg list") }
                return body
            }
            return JSONBody.json(body)
        }
        api.get("eggs/:id") { _, context -> Response in
            _ = try context.require(.viewer)
            // `eggs/upload` is the upload route (POST only), not an egg: a GET there is a 405.
            if context.parameters.get("id") == "upload" { throw HTTPError(.notFound) }
            return JSONBody.success(EggDetailBody(try await egg(context.parameters.get("id") ?? "", version: nil)))
        }
        api.get("eggs/:id/versions") { _, context -> Response in
            _ = try context.require(.viewer)
            let detail = try await egg(context.parameters.get("id") ?? "", version: nil)
            let list = try await gateway.catalog.versions(EggVersionsRequest(name: detail.egg.name))
            return JSONBody.success(list)
        }
        api.post("eggs") { request, context -> Response in
            let who = try context.require(.operator)
            let body = try await JSONBody.read(CreateFromTemplate.self, from: request, limit: gateway.settings.maxBodyBytes)
            let template = try await egg(body.templateId.text, version: nil)
            let created = try await gateway.catalog.createFromTemplate(
                EggCreateFromTemplateRequest(
                    name: body.name,
                    template: template.egg.name,
                    displayName: body.displayName,
                    description: body.description,
                    category: body.category,
                    variables: body.variables ?? [:]
                )
            )
            gateway.forgetEggs()
            await gateway.audit.record(who, "egg.create_from_template", target: created.egg.name, detail: "template \(template.egg.name)")
            return JSONBody.success(
                Created(
                    eggId: created.egg.id,
                    name: created.egg.name,
                    version: created.egg.version,
                    message: "egg \(created.egg.name) created from template \(template.egg.name)"
                ),
                status: .created
            )
        }
        api.post("eggs/upload") { request, context -> Response in
            let who = try context.require(.operator)
            let archive: String
            if request.headers[.contentType]?.hasPrefix("application/json") == true {
                archive = try await JSONBody.read(Upload.self, from: request, limit: gateway.settings.maxUploadBytes * 4 / 3 + 1024).archiveBase64
            } else {
                var request = request
                let bytes: NIOCore.ByteBuffer
                do {
                    bytes = try await request.collectBody(upTo: gateway.settings.maxUploadBytes)
                } catch {
                    throw APIError(.contentTooLarge, "the archive is larger than \(gateway.settings.maxUploadBytes) bytes")
                }
                guard bytes.readableBytes > 0 else {
                    throw APIError.badRequest("send a tar.gz of one egg folder as the body, or {\"archive_base64\": …}")
                }
                archive = Data(bytes.readableBytesView).base64EncodedString()
            }
            let created = try await gateway.catalog.upload(EggUploadRequest(archiveBase64: archive, byAdmin: who.role >= .admin))
            gateway.forgetEggs()
            await gateway.audit.record(who, "egg.upload", target: created.egg.name, detail: "version \(created.egg.version)")
            return JSONBody.success(
                Created(
                    eggId: created.egg.id,
                    name: created.egg.name,
                    version: created.egg.version,
                    message: "egg \(created.egg.name) \(created.egg.version) uploaded"
                ),
                status: .created
            )
        }
        api.get("templates") { _, context -> Response in
            _ = try context.require(.viewer)
            let page = try await gateway.catalog.list(EggListRequest(templatesOnly: true, page: 1, perPage: 100))
            var templates: [Template] = []
            for s in page.eggs {
                let detail = try await egg(s.name, version: nil)
                templates.append(Template(summary: s, metadataJSON: detail.metadataJSON))
            }
            return JSONBody.success(TemplateList(templates: templates, total: templates.count))
        }
    }

    /// An egg by numeric id or by name.
    func egg(_ key: String, version: String?) async throws -> EggDetail {
        guard !key.isEmpty, key.count <= 63 else { throw APIError.notFound("no egg '\(key.prefix(63))'") }
        let request = Int64(key).map { EggGetRequest(id: $0, version: version) } ?? EggGetRequest(name: key, version: version)
        guard
            case .detail(let detail) = try await gateway.eggCache.get(
                "egg \(key) \(version ?? "")",
                load: { .detail(try await gateway.catalog.get(request)) }
            )
        else {
            throw APIError(.internalServerError, "egg cache")
        }
        return detail
    }

    struct CreateFromTemplate: Decodable {
        var name: String
        var displayName: String?
        var description: String?
        var category: String?
        var templateId: IdOrName
        var variables: [String: VariableValue]?
        enum CodingKeys: String, CodingKey {
            case name, description, category, variables
            case displayName = "display_name"
            case templateId = "template_id"
        }
    }

    struct Upload: Decodable {
        var archiveBase64: String
        enum CodingKeys: String, CodingKey { case archiveBase64 = "archive_base64" }
    }

    struct Created: Encodable {
        var eggId: Int64
        var name: String
        var version: String
        var message: String
        enum CodingKeys: String, CodingKey {
            case name, version, message
            case eggId = "egg_id"
        }
    }

    struct Template: Encodable {
        var id: Int64
        var name: String
        var displayName: String
        var description: String
        var category: String
        var templateType: String
        var requiredVariables: [String]
        var variables: [Variable]

        init(summary s: EggSummary, metadataJSON: String) {
            id = s.id
            name = s.name
            displayName = s.displayName
            description = s.description
            category = s.category
            templateType = s.eggType.rawValue
            let meta = try? JSONDecoder().decode(Meta.self, from: Data(metadataJSON.utf8))
            variables = meta?.variables ?? []
            requiredVariables = variables.filter { $0.required == true }.map(\.name)
        }

        struct Meta: Decodable { var variables: [Variable]? }

        /// An egg's variable declaration, as the template lists it.
        struct Variable: Codable, Sendable {
            var name: String
            var description: String?
            var type: String?
            var required: Bool?
            var `default`: VariableValue?
            var pattern: String?
            var `enum`: [String]?

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decode(String.self, forKey: .name)
                description = try? c.decodeIfPresent(String.self, forKey: .description)
                type = try? c.decodeIfPresent(String.self, forKey: .type)
                required = try? c.decodeIfPresent(Bool.self, forKey: .required)
                `default` = try? c.decodeIfPresent(VariableValue.self, forKey: .default)
                pattern = try? c.decodeIfPresent(String.self, forKey: .pattern)
                `enum` = try? c.decodeIfPresent([String].self, forKey: .enum)
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, name, description, category, variables
            case displayName = "display_name"
            case templateType = "template_type"
            case requiredVariables = "required_variables"
        }
    }

    struct TemplateList: Encodable {
        var templates: [Template]
        var total: Int
    }
}

/// An id the original sent as a number, which we also accept as a name.
struct IdOrName: Decodable, Sendable {
    var text: String
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self) { text = String(n) } else { text = try c.decode(String.self) }
    }
}
