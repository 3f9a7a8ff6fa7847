import CLibvirt
import Foundation

/// One open libvirt connection (`virConnectPtr`). libvirt connections are thread-safe; every call
/// runs on ``Blocking``'s threads, and each reads libvirt's thread-local error on the thread that failed.
public final class LibvirtConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    public let uri: String

    private init(conn: OpaquePointer, uri: String) {
        self.conn = conn
        self.uri = uri
    }

    deinit { virConnectClose(conn) }

    private static let setup: Void = {
        iceshelves_virt_install_error_handler()
        _ = virInitialize()
    }()

    /// Opens `uri` (`qemu:///system`, `qemu+tcp://…`, `test:///default`, …) within `timeout`
    /// (the deployer's `LIBVIRT_CONNECTION_TIMEOUT`).
    public static func open(_ uri: String, timeout: Duration = .seconds(30)) async throws -> LibvirtConnection {
        _ = setup
        return try await Blocking.run(
            timeout: timeout,
            timeoutError: LibvirtError(.timeout, "connecting to \(redacted(uri)) took longer than \(timeout)")
        ) {
            guard let c = virConnectOpen(uri) else {
                var e = LibvirtError.last("cannot connect to \(redacted(uri))")
                if e.kind == .other || e.kind == .connection {
                    let m = e.message.lowercased()
                    if m.contains("host key") || m.contains("known_hosts") || m.contains("authentication") || m.contains("certificate") {
                        e.kind = .authentication
                    } else {
                        e.kind = .connection
                    }
                }
                throw e
            }
            return LibvirtConnection(conn: c, uri: uri)
        }
    }

    /// The URI without its query (key file paths are not secrets, but they are noise).
    public static func redacted(_ uri: String) -> String { String(uri.prefix { $0 != "?" }) }

    // MARK: Host

    public func hostInfo() async throws -> LibvirtHostInfo {
        try await call { conn in
            var hv: UInt = 0
            var lib: UInt = 0
            guard virConnectGetVersion(conn, &hv) == 0, virConnectGetLibVersion(conn, &lib) == 0 else {
                throw LibvirtError.last("cannot read the hypervisor version")
            }
            var node = virNodeInfo()
            guard virNodeGetInfo(conn, &node) == 0 else { throw LibvirtError.last("cannot read the host's CPU and memory") }
            let model = withUnsafeBytes(of: node.model) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let host = virConnectGetHostname(conn)
            defer { free(host) }
            let driver = virConnectGetType(conn).map { String(cString: $0) } ?? "unknown"
            return LibvirtHostInfo(
                hostname: host.map { String(cString: $0) } ?? "",
                driver: driver,
                hypervisorVersion: Self.version(hv),
                libvirtVersion: Self.version(lib),
                cpuModel: model,
                cpus: Int(node.cpus),
                memoryBytes: UInt64(node.memory) * 1024
            )
        }
    }

    static func version(_ v: UInt) -> String { "\(v / 1_000_000).\(v / 1000 % 1000).\(v % 1000)" }

    // MARK: Pools and volumes

    public func pools() async throws -> [LibvirtPoolInfo] {
        try await call { conn in
            var list: UnsafeMutablePointer<OpaquePointer?>?
            let n = virConnectListAllStoragePools(conn, &list, 0)
            guard n >= 0 else { throw LibvirtError.last("cannot list storage pools") }
            defer { free(list) }
            var out: [LibvirtPoolInfo] = []
            for i in 0..<Int(n) {
                guard let p = list?[i] else { continue }
                defer { virStoragePoolFree(p) }
                out.append(try Self.poolInfo(p))
            }
            return out.sorted { $0.name < $1.name }
        }
    }

    public func pool(_ name: String) async throws -> LibvirtPoolInfo {
        try await withPool(name) { try Self.poolInfo($0) }
    }

    private static func poolInfo(_ p: OpaquePointer) throws -> LibvirtPoolInfo {
        var info = virStoragePoolInfo()
        guard virStoragePoolGetInfo(p, &info) == 0 else { throw LibvirtError.last("cannot read a storage pool") }
        return LibvirtPoolInfo(
            name: virStoragePoolGetName(p).map { String(cString: $0) } ?? "",
            active: info.state == VIR_STORAGE_POOL_RUNNING.rawValue,
            capacityBytes: info.capacity,
            availableBytes: info.available
        )
    }

    /// The volume `name` in `pool`, or `nil` when there is none.
    public func volume(_ name: String, pool: String) async throws -> LibvirtVolumeInfo? {
        try await withPool(pool) { p in
            guard let v = virStorageVolLookupByName(p, name) else {
                let e = LibvirtError.last("cannot look up volume \(name)")
                if e.kind == .notFound { return nil }
                throw e
            }
            defer { virStorageVolFree(v) }
            return try Self.volumeInfo(v)
        }
    }

    public func volumeNames(pool: String) async throws -> [String] {
        try await withPool(pool) { p in
            var list: UnsafeMutablePointer<OpaquePointer?>?
            let n = virStoragePoolListAllVolumes(p, &list, 0)
            guard n >= 0 else { throw LibvirtError.last("cannot list the volumes of \(pool)") }
            defer { free(list) }
            var names: [String] = []
            for i in 0..<Int(n) {
                guard let v = list?[i] else { continue }
                names.append(virStorageVolGetName(v).map { String(cString: $0) } ?? "")
                virStorageVolFree(v)
            }
            return names.sorted()
        }
    }

    /// Creates a volume from its XML (see ``VolumePlan``) and returns it.
    public func createVolume(pool: String, xml: String) async throws -> LibvirtVolumeInfo {
        try await withPool(pool) { p in
            guard let v = virStorageVolCreateXML(p, xml, 0) else { throw LibvirtError.last("cannot create a volume in \(pool)") }
            defer { virStorageVolFree(v) }
            return try Self.volumeInfo(v)
        }
    }

    /// Deletes the volume; `false` when there was none.
    @discardableResult
    public func deleteVolume(_ name: String, pool: String) async throws -> Bool {
        try await withPool(pool) { p in
            guard let v = virStorageVolLookupByName(p, name) else {
                let e = LibvirtError.last("cannot look up volume \(name)")
                if e.kind == .notFound { return false }
                throw e
            }
            defer { virStorageVolFree(v) }
            guard virStorageVolDelete(v, 0) == 0 else { throw LibvirtError.last("cannot delete volume \(name)") }
            return true
        }
    }

    /// Writes `data` into the volume through a libvirt stream (works against a remote hypervisor).
    public func upload(_ data: [UInt8], toVolume name: String, pool: String) async throws {
        try await withPool(pool) { p in
            guard let v = virStorageVolLookupByName(p, name) else { throw LibvirtError.last("no volume \(name)") }
            defer { virStorageVolFree(v) }
            guard let stream = virStreamNew(virStoragePoolGetConnect(p), 0) else { throw LibvirtError.last("cannot open a stream") }
            defer { virStreamFree(stream) }
            guard virStorageVolUpload(v, stream, 0, UInt64(data.count), 0) == 0 else {
                throw LibvirtError.last("cannot upload into \(name)")
            }
            var sent = 0
            let chunk = 256 * 1024
            while sent < data.count {
                let n = data.withUnsafeBufferPointer { buf -> Int32 in
                    let base = UnsafeRawPointer(buf.baseAddress! + sent).assumingMemoryBound(to: CChar.self)
                    return virStreamSend(stream, base, min(chunk, data.count - sent))
                }
                guard n > 0 else {
                    let e = LibvirtError.last("upload into \(name) broke off")
                    virStreamAbort(stream)
                    throw e
                }
                sent += Int(n)
            }
            guard virStreamFinish(stream) == 0 else { throw LibvirtError.last("upload into \(name) did not finish") }
        }
    }

    /// Reads the whole volume through a libvirt stream (a console log kept in the pool).
    public func download(volume name: String, pool: String, limit: Int = 16 << 20) async throws -> [UInt8] {
        try await withPool(pool) { p in
            guard let v = virStorageVolLookupByName(p, name) else { throw LibvirtError.last("no volume \(name)") }
            defer { virStorageVolFree(v) }
            guard let stream = virStreamNew(virStoragePoolGetConnect(p), 0) else { throw LibvirtError.last("cannot open a stream") }
            defer { virStreamFree(stream) }
            guard virStorageVolDownload(v, stream, 0, 0, 0) == 0 else { throw LibvirtError.last("cannot download \(name)") }
            var out: [UInt8] = []
            var buf = [CChar](repeating: 0, count: 64 * 1024)
            while true {
                let n = virStreamRecv(stream, &buf, buf.count)
                if n == 0 { break }
                guard n > 0 else {
                    let e = LibvirtError.last("download of \(name) broke off")
                    virStreamAbort(stream)
                    throw e
                }
                if out.count < limit { out.append(contentsOf: buf[0..<Int(n)].map { UInt8(bitPattern: $0) }) }
            }
            _ = virStreamFinish(stream)
            return out
        }
    }

    public func refreshPool(_ name: String) async throws {
        try await withPool(name) { p in
            guard virStoragePoolRefresh(p, 0) == 0 else { throw LibvirtError.last("cannot refresh pool \(name)") }
        }
    }

    private static func volumeInfo(_ v: OpaquePointer) throws -> LibvirtVolumeInfo {
        var info = virStorageVolInfo()
        guard virStorageVolGetInfo(v, &info) == 0 else { throw LibvirtError.last("cannot read a volume") }
        let path = virStorageVolGetPath(v)
        defer { free(path) }
        return LibvirtVolumeInfo(
            name: virStorageVolGetName(v).map { String(cString: $0) } ?? "",
            path: path.map { String(cString: $0) } ?? "",
            capacityBytes: info.capacity,
            allocationBytes: info.allocation
        )
    }

    private func withPool<T: Sendable>(_ name: String, _ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await call { conn in
            guard let p = virStoragePoolLookupByName(conn, name) else { throw LibvirtError.last("no storage pool \(name)") }
            defer { virStoragePoolFree(p) }
            return try body(p)
        }
    }

    // MARK: Networks

    /// `true` when the network exists (active or not).
    public func networkExists(_ name: String) async throws -> Bool {
        try await call { conn in
            guard let n = virNetworkLookupByName(conn, name) else {
                let e = LibvirtError.last("cannot look up network \(name)")
                if e.kind == .notFound { return false }
                throw e
            }
            virNetworkFree(n)
            return true
        }
    }

    // MARK: Domains

    public func domainNames() async throws -> [String] {
        try await call { conn in
            var list: UnsafeMutablePointer<OpaquePointer?>?
            let n = virConnectListAllDomains(conn, &list, 0)
            guard n >= 0 else { throw LibvirtError.last("cannot list domains") }
            defer { free(list) }
            var names: [String] = []
            for i in 0..<Int(n) {
                guard let d = list?[i] else { continue }
                names.append(virDomainGetName(d).map { String(cString: $0) } ?? "")
                virDomainFree(d)
            }
            return names.sorted()
        }
    }

    /// The domain's XML, or `nil` when there is no such domain.
    public func domainXML(_ name: String) async throws -> String? {
        try await withDomain(name) { d in
            guard let x = virDomainGetXMLDesc(d, 0) else { throw LibvirtError.last("cannot read the XML of \(name)") }
            defer { free(x) }
            return String(cString: x)
        }
    }

    public func domainState(_ name: String) async throws -> LibvirtDomainState? {
        try await withDomain(name) { d in
            var state: Int32 = 0
            var reason: Int32 = 0
            guard virDomainGetState(d, &state, &reason, 0) == 0 else { throw LibvirtError.last("cannot read the state of \(name)") }
            return LibvirtDomainState(state)
        }
    }

    /// Defines a persistent domain from its XML.
    public func defineDomain(xml: String) async throws {
        try await call { conn in
            guard let d = virDomainDefineXML(conn, xml) else { throw LibvirtError.last("cannot define the domain") }
            virDomainFree(d)
        }
    }

    /// Starts a defined domain (`virDomainCreate`).
    public func startDomain(_ name: String) async throws {
        let found: Void? = try await withDomain(name) { d in
            guard virDomainCreate(d) == 0 else { throw LibvirtError.last("cannot start \(name)") }
        }
        if found == nil { throw LibvirtError(.notFound, "no domain \(name)") }
    }

    /// Stops (hard) and undefines the domain; `false` when there was none.
    @discardableResult
    public func removeDomain(_ name: String) async throws -> Bool {
        let found: Void? = try await withDomain(name) { d in
            var state: Int32 = 0
            var reason: Int32 = 0
            if virDomainGetState(d, &state, &reason, 0) == 0, LibvirtDomainState(state).isActive {
                if virDomainDestroy(d) != 0 {
                    let e = LibvirtError.last("cannot stop \(name)")
                    if e.kind != .invalidState { throw e }  // it stopped by itself meanwhile
                }
            }
            let flags =
                VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
                | VIR_DOMAIN_UNDEFINE_NVRAM.rawValue
            if virDomainUndefineFlags(d, flags) != 0 {
                var e = LibvirtError.last("cannot undefine \(name)")
                if e.kind == .invalid, virDomainUndefine(d) == 0 { return }  // a driver without those flags
                if e.kind == .invalid { e = LibvirtError.last("cannot undefine \(name)") }
                if e.kind != .notFound { throw e }
            }
        }
        return found != nil
    }

    /// Hard stop of a running domain (`virDomainDestroy`); nothing when it is not running.
    public func stopDomain(_ name: String) async throws {
        _ = try await withDomain(name) { d in
            if virDomainDestroy(d) != 0 {
                let e = LibvirtError.last("cannot stop \(name)")
                if e.kind != .invalidState { throw e }
            }
        }
    }

    /// The IPv4/IPv6 addresses the network's DHCP leases give the domain (empty when none yet).
    public func domainAddresses(_ name: String) async throws -> [String] {
        try await withDomain(name) { d in
            var ifaces: UnsafeMutablePointer<virDomainInterfacePtr?>?
            let n = virDomainInterfaceAddresses(d, &ifaces, UInt32(VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE.rawValue), 0)
            guard n >= 0 else {
                _ = LibvirtError.last("no addresses")
                return []
            }
            defer { free(ifaces) }
            var out: [String] = []
            for i in 0..<Int(n) {
                guard let iface = ifaces?[i] else { continue }
                for j in 0..<Int(iface.pointee.naddrs) {
                    if let a = iface.pointee.addrs?[j].addr { out.append(String(cString: a)) }
                }
                virDomainInterfaceFree(iface)
            }
            return out
        } ?? []
    }

    /// Runs `body` with the domain, or returns `nil` when there is no domain of that name.
    private func withDomain<T: Sendable>(_ name: String, _ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T? {
        try await call { conn in
            guard let d = virDomainLookupByName(conn, name) else {
                let e = LibvirtError.last("cannot look up domain \(name)")
                if e.kind == .notFound { return nil }
                throw e
            }
            defer { virDomainFree(d) }
            return try body(d)
        }
    }

    /// Runs `body` with the connection on a ``Blocking`` thread (the connection stays alive meanwhile).
    private func call<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await Blocking.run { [self] in try body(self.conn) }
    }
}
