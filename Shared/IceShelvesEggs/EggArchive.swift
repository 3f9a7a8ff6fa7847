import CZlib

/// Reads an uploaded egg: a gzip-compressed tar of one egg folder (`name/metadata.json`, …)
/// or of its files at the top level.
///
/// It refuses, with the member's name: absolute paths, `..`, links, devices and every other
/// special member, more than one folder, and archives that unpack to more than the size limit
/// (so a small archive cannot expand into a huge one).
public struct EggArchive: Sendable {
    public let maxEggBytes: Int

    public init(maxEggBytes: Int = 100 * 1024 * 1024) {
        self.maxEggBytes = maxEggBytes
    }

    /// The files of the egg in `archive`, by their name inside the egg, and the folder name if any.
    public func files(from archive: [UInt8]) throws -> (folder: String?, files: [Egg.File: String]) {
        let tar = try gunzip(archive)
        var files: [Egg.File: String] = [:]
        var folder: String?
        var offset = 0
        while offset + 512 <= tar.count {
            let header = tar[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }
            let name = Self.field(header, 0, 100)
            let prefix = Self.field(header, 345, 155)
            let fullName = prefix.isEmpty ? name : prefix + "/" + name
            guard let size = Int(Self.field(header, 124, 12).filter { $0 != " " }, radix: 8), size >= 0 else {
                throw EggError("archive", "a member has an invalid size")
            }
            let type = header[header.startIndex + 156]
            let dataStart = offset + 512
            offset = dataStart + (size + 511) / 512 * 512
            guard dataStart + size <= tar.count else { throw EggError("archive", "is truncated") }

            let parts = try Self.safeComponents(fullName)
            switch type {
            case UInt8(ascii: "5"):  // directory
                if parts.count > 1 { throw EggError(fullName, "nested folders are not allowed") }
                if let p = parts.first { try setFolder(p, &folder, fullName) }
                continue
            case UInt8(ascii: "0"), 0:  // regular file
                break
            default:
                throw EggError(fullName, "only regular files and one folder are allowed (no links, devices or special members)")
            }
            guard !parts.isEmpty, parts.count <= 2 else { throw EggError(fullName, "nested folders are not allowed") }
            if parts.count == 2 { try setFolder(parts[0], &folder, fullName) }
            guard let file = Egg.File(rawValue: parts.last!) else { continue }
            guard let text = String(validating: tar[dataStart..<dataStart + size], as: UTF8.self) else {
                throw EggError(fullName, "is not UTF-8 text")
            }
            files[file] = text
        }
        return (folder, files)
    }

    private func setFolder(_ name: String, _ folder: inout String?, _ member: String) throws {
        if let folder, folder != name { throw EggError(member, "the archive holds more than one folder") }
        folder = name
    }

    /// Splits a member name, refusing absolute paths and `..`.
    static func safeComponents(_ name: String) throws -> [String] {
        if name.hasPrefix("/") { throw EggError(name, "absolute paths are not allowed") }
        let parts = name.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
        if parts.contains("..") { throw EggError(name, "'..' is not allowed in paths") }
        return parts
    }

    static func field(_ header: ArraySlice<UInt8>, _ start: Int, _ length: Int) -> String {
        let bytes = header[(header.startIndex + start)..<(header.startIndex + start + length)]
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    /// Inflates gzip data, stopping with an error past the size limit.
    func gunzip(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard iceshelves_inflate_init_gzip(&stream) == Z_OK else { throw EggError("archive", "cannot start decompression") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        let limit = maxEggBytes + 1024 * 1024  // tar headers and padding on top of the files
        return try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { throw EggError("archive", "unpacks to more than \(maxEggBytes / 1_048_576) MB") }
                if status == Z_STREAM_END { return output }
                guard status == Z_OK else { throw EggError("archive", "is not valid gzip data") }
                if stream.avail_in == 0 && produced == 0 { throw EggError("archive", "is truncated") }
            }
        }
    }
}
