#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a file could not be read.
public enum FileAccessError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound
    case notRegularFile(kind: String)
    case tooLarge(limit: Int)
    case unreadable(String)

    public var description: String {
        switch self {
        case .notFound: "no such file"
        case .notRegularFile(let kind): "is a \(kind), not a regular file"
        case .tooLarge(let limit): "larger than the input limit of \(limit) bytes (raise it with --max-input-bytes)"
        case .unreadable(let reason): reason
        }
    }
}

/// The files the front ends may read: the inputs and whatever a Caddyfile imports.
/// Tests use an in-memory one; the CLI uses the disk.
public protocol InputFileSystem: Sendable {
    /// The bytes of a regular file. Directories, FIFOs, devices and sockets are refused
    /// without being opened, so nothing can block.
    func read(_ path: String) throws(FileAccessError) -> [UInt8]
    /// Whether anything (even a broken link) exists at `path`.
    func exists(_ path: String) -> Bool
    /// Whether `path` is a directory (following links).
    func isDirectory(_ path: String) -> Bool
    /// The names in a directory, unsorted; empty when it cannot be listed.
    func entries(ofDirectory path: String) -> [String]
    /// An absolute, lexically clean path that names the same file; used to recognise
    /// the same file reached by two spellings.
    func canonical(_ path: String) -> String
}

extension InputFileSystem {
    /// Go's `filepath.Glob`, which Caddy's `import` uses: `*` matches any run of
    /// characters but `/` (dotfiles included), `?` one character, `\` escapes; a
    /// pattern without wildcards matches itself if it exists. Sorted.
    public func glob(_ pattern: String) -> [String] {
        guard Path.hasWildcard(pattern) else { return exists(pattern) ? [pattern] : [] }
        let (directory, base) = Path.split(pattern)
        let directories: [String]
        if Path.hasWildcard(directory) {
            directories = glob(directory)
        } else {
            directories = [directory]
        }
        var matches: [String] = []
        for dir in directories where isDirectory(dir.isEmpty ? "." : dir) {
            for name in entries(ofDirectory: dir.isEmpty ? "." : dir).sorted() where Path.matches(name, pattern: base) {
                matches.append(dir.isEmpty ? name : Path.join(dir, name))
            }
        }
        return matches
    }
}

/// Reads the real disk.
public struct DiskFileSystem: InputFileSystem {
    /// Files larger than this are refused; a Caddyfile or manifest dump is far smaller.
    public var maxFileBytes: Int

    public init(maxFileBytes: Int = 64 << 20) {
        self.maxFileBytes = maxFileBytes
    }

    public func read(_ path: String) throws(FileAccessError) -> [UInt8] {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .notFound }
            throw .unreadable(String(cString: strerror(code)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .notRegularFile(kind: "directory")
        case S_IFIFO: throw .notRegularFile(kind: "FIFO")
        case S_IFCHR, S_IFBLK: throw .notRegularFile(kind: "device")
        case S_IFSOCK: throw .notRegularFile(kind: "socket")
        default: throw .notRegularFile(kind: "special file")
        }
        if Int(info.st_size) > maxFileBytes { throw .tooLarge(limit: maxFileBytes) }
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > maxFileBytes { throw .tooLarge(limit: maxFileBytes) }
        }
        return bytes
    }

    public func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    public func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public func entries(ofDirectory path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    public func canonical(_ path: String) -> String {
        if path.hasPrefix("/") { return Path.clean(path) }
        return Path.clean(Path.join(FileManager.default.currentDirectoryPath, path))
    }
}

/// Files held in memory, for tests: paths are compared after `Path.clean`.
public struct InMemoryFileSystem: InputFileSystem {
    public var files: [String: String]

    public init(_ files: [String: String]) {
        var cleaned: [String: String] = [:]
        for (path, text) in files { cleaned[Path.clean(path)] = text }
        self.files = cleaned
    }

    public func read(_ path: String) throws(FileAccessError) -> [UInt8] {
        let path = Path.clean(path)
        if let text = files[path] { return Array(text.utf8) }
        if isDirectory(path) { throw .notRegularFile(kind: "directory") }
        throw .notFound
    }

    public func exists(_ path: String) -> Bool {
        let path = Path.clean(path)
        return files[path] != nil || isDirectory(path)
    }

    public func isDirectory(_ path: String) -> Bool {
        let path = Path.clean(path)
        let prefix = path == "." ? "" : path + "/"
        return files.keys.contains { $0.hasPrefix(prefix) && $0 != path }
    }

    public func entries(ofDirectory path: String) -> [String] {
        let path = Path.clean(path)
        let prefix = path == "." ? "" : path + "/"
        var names: Set<String> = []
        for file in files.keys where file.hasPrefix(prefix) {
            if let first = file.dropFirst(prefix.count).split(separator: "/").first { names.insert(String(first)) }
        }
        return Array(names)
    }

    public func canonical(_ path: String) -> String {
        path.hasPrefix("/") ? Path.clean(path) : Path.clean("/" + path)
    }
}

/// Lexical path helpers with Go's `path/filepath` behaviour on Unix.
public enum Path {
    /// Go's `filepath.Clean`: collapses `//`, `.` and `..` lexically.
    public static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return clean(name) }
        return clean(directory + "/" + name)
    }

    /// Go's `filepath.Dir`.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return clean(String(path[...slash]))
    }

    /// Splits at the last `/` into directory (without the slash) and name.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    static func hasWildcard(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }
    }

    /// Whether `name` matches a glob `pattern` (`*`, `?`, `\` escapes; no `/`).
    static func matches(_ name: String, pattern: String) -> Bool {
        let text = Array(name.unicodeScalars)
        let pattern = Array(pattern.unicodeScalars)
        // Iterative matcher with one backtrack point for the last `*`.
        var t = 0
        var p = 0
        var starPattern = -1
        var starText = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case "*":
                    starPattern = p
                    starText = t
                    p += 1
                    continue
                case "?":
                    if text[t] != "/" {
                        p += 1
                        t += 1
                        continue
                    }
                case "\\" where p + 1 < pattern.count:
                    if pattern[p + 1] == text[t] {
                        p += 2
                        t += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            guard starPattern >= 0, text[starText] != "/" else { return false }
            starText += 1
            t = starText
            p = starPattern + 1
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
