import CLibvirt

/// Why a libvirt call failed: libvirt's own words, its error code, and a kind callers act on.
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The hypervisor could not be reached, or the connection broke.
        case connection
        /// Opening the connection took longer than `LIBVIRT_CONNECTION_TIMEOUT`.
        case timeout
        /// Authentication failed: an unknown SSH host key, a refused key, a bad certificate.
        case authentication
        /// The domain, pool, volume or network does not exist.
        case notFound
        /// It exists already (a domain or volume with that name).
        case exists
        /// Not possible in the object's current state (a running domain, an inactive pool).
        case invalidState
        /// The settings or the XML are not acceptable.
        case invalid
        /// Anything else libvirt reported.
        case other
    }

    public var kind: Kind
    public var message: String
    /// libvirt's `virErrorNumber` (0 when not from libvirt).
    public var code: Int32

    public init(_ kind: Kind, _ message: String, code: Int32 = 0) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    public var description: String { message }

    /// The last error libvirt recorded on this thread, as a typed error; `fallback` when there is none.
    static func last(_ fallback: String) -> LibvirtError {
        guard let e = virGetLastError() else { return LibvirtError(.other, fallback) }
        let message = e.pointee.message.map { String(cString: $0) } ?? fallback
        let code = e.pointee.code
        virResetLastError()
        return LibvirtError(kind(of: code), message, code: code)
    }

    static func kind(of code: Int32) -> Kind {
        switch code {
        case Int32(VIR_ERR_NO_DOMAIN.rawValue), Int32(VIR_ERR_NO_STORAGE_POOL.rawValue), Int32(VIR_ERR_NO_STORAGE_VOL.rawValue),
            Int32(VIR_ERR_NO_NETWORK.rawValue):
            .notFound
        case Int32(VIR_ERR_DOM_EXIST.rawValue), Int32(VIR_ERR_STORAGE_VOL_EXIST.rawValue):
            .exists
        case Int32(VIR_ERR_OPERATION_INVALID.rawValue):
            .invalidState
        case Int32(VIR_ERR_AUTH_FAILED.rawValue), Int32(VIR_ERR_AUTH_CANCELLED.rawValue), Int32(VIR_ERR_AUTH_UNAVAILABLE.rawValue):
            .authentication
        case Int32(VIR_ERR_XML_ERROR.rawValue), Int32(VIR_ERR_XML_DETAIL.rawValue), Int32(VIR_ERR_INVALID_ARG.rawValue),
            Int32(VIR_ERR_CONFIG_UNSUPPORTED.rawValue), Int32(VIR_ERR_NO_SUPPORT.rawValue), Int32(VIR_ERR_NO_CONNECT.rawValue):
            .invalid
        case Int32(VIR_ERR_SYSTEM_ERROR.rawValue), Int32(VIR_ERR_RPC.rawValue), Int32(VIR_ERR_INTERNAL_ERROR.rawValue):
            .connection
        default:
            .other
        }
    }
}
