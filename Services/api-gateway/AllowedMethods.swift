import Hummingbird
import Synchronization

/// The methods each route path answers, read from the router once its routes are in, so that
/// a known path called with another method is a 405 with an `Allow` header, not a 404.
final class AllowedMethods: Sendable {
    private let table = Mutex<[(components: [Substring], methods: [String])]>([])

    /// Takes the routes of a finished router.
    func load(_ routes: [Router<GatewayContext>.RouteDescription]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path.description, default: []].insert(route.method.rawValue) }
        table.withLock { t in
            t = byPath.map { (path, methods) in
                (path.split(separator: "/"), methods.sorted())
            }
        }
    }

    /// The methods `path` answers, or `[]` when no route has that path. Where several routes
    /// match (`eggs/upload` is also `eggs/{id}`), the most literal one names the path, as the
    /// router's own lookup does.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/")
        let best = table.withLock { t in
            t.filter { entry in
                entry.components.count == parts.count
                    && zip(entry.components, parts).allSatisfy { pattern, part in pattern.first == "{" || pattern == part }
            }
            .max { a, b in a.components.filter { $0.first != "{" }.count < b.components.filter { $0.first != "{" }.count }
        }
        return best?.methods ?? []
    }

    /// Whether `path` is a route's that does not take `method` (a 405, not a 404).
    func refuses(_ method: String, on path: String) -> Bool {
        let methods = methods(for: path)
        return !methods.isEmpty && !methods.contains(method)
    }
}
