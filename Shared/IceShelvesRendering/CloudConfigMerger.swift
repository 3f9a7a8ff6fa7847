import Yams

/// Merges a caller's cloud-config into an egg's, on parsed trees.
///
/// Rules (documented in docs/rendering.md): mappings merge key by key, recursively; lists
/// append, unless the top-level key is in `replaceLists`, in which case the caller's list
/// replaces the egg's; any other value from the caller replaces the egg's.
enum CloudConfigMerger {
    static func merge(_ base: Node, _ overlay: Node, replaceLists: Set<String>, topLevelKey: String? = nil) -> Node {
        switch (base, overlay) {
        case (.mapping(let b), .mapping(let o)):
            var pairs: [(Node, Node)] = Array(b)
            for (key, value) in o {
                let name = key.string
                if let index = pairs.firstIndex(where: { $0.0 == key }) {
                    pairs[index].1 = merge(pairs[index].1, value, replaceLists: replaceLists, topLevelKey: topLevelKey ?? name)
                } else {
                    pairs.append((key, value))
                }
            }
            return .mapping(Node.Mapping(pairs, b.tag, b.style))
        case (.sequence(let b), .sequence(let o)):
            if let key = topLevelKey, replaceLists.contains(key) { return overlay }
            return .sequence(Node.Sequence(Array(b) + Array(o), b.tag, b.style))
        default:
            return overlay
        }
    }

    /// Sets a top-level key to a value.
    static func set(_ root: Node, key: String, to value: Node) -> Node {
        merge(root, .mapping(Node.Mapping([(Node(key), value)])), replaceLists: [key])
    }

    /// Appends items to a top-level list (creating it).
    static func append(_ root: Node, key: String, items: [Node]) -> Node {
        guard !items.isEmpty else { return root }
        return merge(root, .mapping(Node.Mapping([(Node(key), .sequence(Node.Sequence(items)))])), replaceLists: [])
    }

    static func quoted(_ s: String) -> Node { .scalar(.init(s, Tag(.str), .doubleQuoted)) }
}
