import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif

/// An `amqp_table_t` built from Swift values. It owns its C memory until `deinit`, so keep it
/// alive for as long as the C call that reads it. Confined to the connection thread.
final class FieldTable {
    private(set) var table = amqp_table_t(num_entries: 0, entries: nil)
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var entries: UnsafeMutablePointer<amqp_table_entry_t>?

    init(_ values: [String: HeaderValue]) {
        guard !values.isEmpty else { return }
        let sorted = values.sorted { $0.key < $1.key }
        let entries = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: sorted.count)
        self.entries = entries
        for (i, (key, value)) in sorted.enumerated() {
            var entry = amqp_table_entry_t()
            entry.key = bytes(key)
            switch value {
            case .string(let s):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                entry.value.value.bytes = bytes(s)
            case .int(let v):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                entry.value.value.i64 = v
            case .bool(let b):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                entry.value.value.boolean = b ? 1 : 0
            }
            (entries + i).initialize(to: entry)
        }
        table = amqp_table_t(num_entries: Int32(sorted.count), entries: entries)
    }

    /// Copies a string into memory this table owns and returns it as AMQP bytes.
    func bytes(_ s: String) -> amqp_bytes_t {
        let c = strdup(s)!
        strings.append(c)
        return amqp_bytes_t(len: strlen(c), bytes: UnsafeMutableRawPointer(c))
    }

    deinit {
        for string in strings { free(string) }
        entries?.deallocate()
    }

    /// Reads the kinds of ``HeaderValue`` from a C table; other kinds are skipped.
    static func read(_ table: amqp_table_t) -> [String: HeaderValue] {
        guard table.num_entries > 0, let entries = table.entries else { return [:] }
        var result: [String: HeaderValue] = [:]
        for i in 0..<Int(table.num_entries) {
            let entry = entries[i]
            let key = string(entry.key)
            let v = entry.value.value
            switch UInt32(entry.value.kind) {
            case AMQP_FIELD_KIND_UTF8.rawValue, AMQP_FIELD_KIND_BYTES.rawValue: result[key] = .string(string(v.bytes))
            case AMQP_FIELD_KIND_I8.rawValue: result[key] = .int(Int64(v.i8))
            case AMQP_FIELD_KIND_U8.rawValue: result[key] = .int(Int64(v.u8))
            case AMQP_FIELD_KIND_I16.rawValue: result[key] = .int(Int64(v.i16))
            case AMQP_FIELD_KIND_U16.rawValue: result[key] = .int(Int64(v.u16))
            case AMQP_FIELD_KIND_I32.rawValue: result[key] = .int(Int64(v.i32))
            case AMQP_FIELD_KIND_U32.rawValue: result[key] = .int(Int64(v.u32))
            case AMQP_FIELD_KIND_I64.rawValue: result[key] = .int(v.i64)
            case AMQP_FIELD_KIND_BOOLEAN.rawValue: result[key] = .bool(v.boolean != 0)
            default: continue
            }
        }
        return result
    }

    /// Decodes AMQP bytes as UTF-8, replacing invalid sequences.
    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let p = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
    }
}
