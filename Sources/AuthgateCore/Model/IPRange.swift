import Foundation

/// An IPv4 or IPv6 address range in CIDR form (`10.0.0.0/8`, `fd00::/8`, or one
/// address), as Caddy's `remote_ip`/`client_ip` and Traefik's `ipAllowList` write them.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    /// The ranges of an annotation's comma (or space, or newline) separated list; an
    /// entry that is none is an error naming it and the annotation.
    static func list(_ node: ManifestNode, annotation: String) throws(DiagnosticError) -> [IPRange] {
        var ranges: [IPRange] = []
        for part in (node.string ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init) where !part.isEmpty {
            guard let range = IPRange(part) else {
                if let variable = PostBuildSubstitution.unresolved(in: part) {
                    throw DiagnosticError(PostBuildSubstitution.message(annotation + " entry", part, variable), at: node.location)
                }
                throw DiagnosticError("'\(part)' in \(annotation) is not an IP address or CIDR range", at: node.location)
            }
            ranges.append(range)
        }
        return ranges
    }

    /// The network address's bytes (4 or 16).
    public var bytes: [UInt8]
    public var prefixLength: Int
    /// How the source wrote it.
    public var written: String

    /// Caddy 2.11's `private_ranges` (`modules/caddyhttp/internal/ranges.go`).
    public static let privateRanges = ["192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "127.0.0.1/8", "fd00::/8", "::1"]

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value), parts[1].allSatisfy(\.isNumber) else { return nil }
            length = value
        }
        bytes = Self.masked(address, length)
        prefixLength = length
        written = text
    }

    /// The range in canonical CIDR form (Traefik's `sourceRange`).
    public var description: String {
        let text = bytes.count == 4 ? bytes.map(String.init).joined(separator: ".") : Self.formatIPv6(bytes)
        return prefixLength == bytes.count * 8 ? text : "\(text)/\(prefixLength)"
    }

    public func contains(_ address: String) -> Bool {
        guard let other = Self.parseAddress(address), other.count == bytes.count else { return false }
        return Self.masked(other, prefixLength) == bytes
    }

    /// An address inside the range (the network address plus one, when there is room).
    public var sampleAddress: String {
        var sample = bytes
        if prefixLength < bytes.count * 8 { sample[sample.count - 1] |= 1 }
        return sample.count == 4 ? sample.map(String.init).joined(separator: ".") : Self.formatIPv6(sample)
    }

    private static func masked(_ address: [UInt8], _ length: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let bits = max(0, min(8, length - index * 8))
            return bits == 8 ? byte : bits == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        if IPAddress.isIPv4(text) { return text.split(separator: ".").map { UInt8($0)! } }
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        let tail = halves.count == 2 ? groups(halves[1]) : []
        guard let tail else { return nil }
        let missing = 8 - head.count - tail.count
        guard halves.count == 2 ? missing >= 1 : missing == 0 else { return nil }
        let all = head + [UInt16](repeating: 0, count: halves.count == 2 ? missing : 0) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    private static func formatIPv6(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // The longest run of zero groups (two or more) becomes `::`.
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > bestLength && end - index >= 2 { bestStart = index; bestLength = end - index }
                index = end
            } else {
                index += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return hex.joined(separator: ":") }
        return hex[..<bestStart].joined(separator: ":") + "::" + hex[(bestStart + bestLength)...].joined(separator: ":")
    }
}
