import Mustache

/// The web UI's Mustache templates, kept in Swift strings (in `Templates/`) so the gateway binary
/// carries them: one parent `layout` and a template per page, `{{ }}` escaping every value.
enum WebTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        let all: [String: String] = [
            "layout": layout, "login": login, "message": message, "dashboard": dashboard, "pager": pager,
            "eggs": eggs, "egg": egg, "eggNew": eggNew, "variableFields": variableFields, "eggUpload": eggUpload,
            "clusters": clusters, "clusterNew": clusterNew, "cluster": cluster, "deploy": deploy,
            "deploymentTable": deploymentTable, "deployments": deployments, "deployment": deployment,
        ]
        for (name, text) in all { try library.register(text, named: name) }
        return library
    }
}
