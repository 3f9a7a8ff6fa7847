/// LXD's rule for instance (and cluster member) names: a host name label of 1–63 characters,
/// letters, digits and hyphens, not starting with a digit or a hyphen, not ending with a hyphen.
public enum InstanceNameRule {
    /// Why `name` breaks the rule, or `nil` when it is fine.
    public static func problem(_ name: String) -> String? {
        guard (1...63).contains(name.utf8.count) else { return "instance name must be 1 to 63 characters, got \(name.utf8.count)" }
        guard name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 }) else {
            return "instance name '\(name.prefix(63))' may hold only letters, digits and hyphens"
        }
        if let first = name.first, first.isNumber || first == "-" { return "instance name '\(name)' must start with a letter" }
        if name.hasSuffix("-") { return "instance name '\(name)' must not end with a hyphen" }
        return nil
    }
}
