import Foundation

/// `convert --output-dir DIR`: one file per object, `<namespace>/<kind>-<name>.yaml`
/// (cluster-scoped objects under `_cluster/`), and a `kustomization.yaml` listing every
/// file, so `kubectl apply -k DIR` applies them all.
///
/// Safe to point at a GitOps repository: object names are validated before they become
/// paths (nothing can leave DIR); files authgate did not write are never overwritten
/// without `force`; files it wrote before for objects that are gone are removed (and
/// listed); and the writing is all-or-nothing — every file is first written to a
/// temporary file inside DIR, and only when all of them are written are they renamed
/// into place. Which files authgate wrote is kept in `DIR/.authgate-files`.
public struct OutputDirectory: Sendable {
    public var path: String
    public var force: Bool

    public static let indexName = ".authgate-files"

    public init(path: String, force: Bool = false) {
        self.path = path
        self.force = force
    }

    public struct Summary: Sendable, Equatable {
        public var written: [String] = []
        public var unchanged: [String] = []
        public var removed: [String] = []
    }

    /// The file an object goes to, relative to DIR.
    public static func relativePath(for object: KubeObject) throws(DiagnosticError) -> String {
        guard isSafeName(object.name) else {
            throw DiagnosticError("\(object.kind) name '\(object.name)' is not a valid Kubernetes name; it cannot become a file name", at: nil)
        }
        let folder: String
        if let namespace = object.namespace {
            guard KubernetesName.isLabel(namespace) else {
                throw DiagnosticError("namespace '\(namespace)' of \(object.kind) \(object.name) is not a valid Kubernetes name; it cannot become a folder", at: nil)
            }
            folder = namespace
        } else {
            folder = "_cluster"
        }
        return "\(folder)/\(object.kind.lowercased())-\(object.name).yaml"
    }

    /// A DNS subdomain (RFC 1123): lower-case alphanumerics, `-` and `.`, starting and
    /// ending alphanumeric, at most 253 characters; never `.`, `..` or a `/`.
    static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253, !name.contains("/"), !name.contains("..") else { return false }
        let scalars = Array(name.unicodeScalars)
        func alphanumeric(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) }
        guard alphanumeric(scalars.first!), alphanumeric(scalars.last!) else { return false }
        return scalars.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "." }
    }

    /// The files to write: each object's, then `kustomization.yaml`.
    public static func files(for objects: [KubeObject]) throws(DiagnosticError) -> [(path: String, content: String)] {
        var files: [(path: String, content: String)] = []
        var seen = Set<String>()
        for object in objects {
            let relative = try relativePath(for: object)
            guard seen.insert(relative).inserted else {
                throw DiagnosticError("two objects would both be written to \(relative)", at: nil)
            }
            files.append((relative, try YAMLWriter.serialize(object.yaml)))
        }
        let kustomization: YAMLValue = .object([
            ("apiVersion", .string("kustomize.config.k8s.io/v1beta1")),
            ("kind", .string("Kustomization")),
            ("resources", .strings(files.map(\.path))),
        ])
        files.append(("kustomization.yaml", try YAMLWriter.serialize(kustomization)))
        return files
    }

    public func write(_ objects: [KubeObject]) throws(DiagnosticError) -> Summary {
        let files = try Self.files(for: objects)
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DiagnosticError("--output-dir \(path) exists and is not a directory", at: nil) }
        } else {
            do {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw DiagnosticError("cannot create --output-dir \(path): \(error.localizedDescription)", at: nil)
            }
        }
        // Every write lands below the real directory, symlinks resolved.
        let root = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let previous = Set(((try? String(contentsOfFile: root + "/" + Self.indexName, encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty })

        var summary = Summary()
        var pending: [(temporary: String, final: String)] = []
        var createdFolders: [String] = []
        func rollback() {
            for item in pending { try? manager.removeItem(atPath: item.temporary) }
            for folder in createdFolders.reversed() { try? manager.removeItem(atPath: folder) }
        }
        for (index, file) in files.enumerated() {
            let final = root + "/" + file.path
            let folder = (final as NSString).deletingLastPathComponent
            if manager.fileExists(atPath: folder, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    rollback()
                    throw DiagnosticError("\(folder) exists and is not a directory", at: nil)
                }
                let real = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
                guard real == root || real.hasPrefix(root + "/") else {
                    rollback()
                    throw DiagnosticError("\(folder) leads outside --output-dir \(path) (a symlink?); refusing to write there", at: nil)
                }
            } else {
                do {
                    try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    createdFolders.append(folder)
                } catch {
                    rollback()
                    throw DiagnosticError("cannot create \(folder): \(error.localizedDescription)", at: nil)
                }
            }
            if let attributes = try? manager.attributesOfItem(atPath: final) {
                if attributes[.type] as? FileAttributeType != .typeRegular {
                    rollback()
                    throw DiagnosticError("\(final) exists and is not a regular file; refusing to replace it", at: nil)
                }
                if !previous.contains(file.path) && !force {
                    rollback()
                    throw DiagnosticError("\(final) exists and authgate did not write it; nothing was written (--force replaces it)", at: nil)
                }
                if (try? String(contentsOfFile: final, encoding: .utf8)) == file.content {
                    summary.unchanged.append(file.path)
                    continue
                }
            }
            let temporary = root + "/.authgate-tmp-\(ProcessInfo.processInfo.processIdentifier)-\(index)"
            guard manager.createFile(atPath: temporary, contents: Data(file.content.utf8)) else {
                rollback()
                throw DiagnosticError("cannot write \(temporary)", at: nil)
            }
            pending.append((temporary, final))
            summary.written.append(file.path)
        }
        // Everything is written: move it into place.
        for item in pending {
            if rename(item.temporary, item.final) != 0 {
                rollback()
                throw DiagnosticError("cannot move \(item.temporary) to \(item.final): \(String(cString: strerror(errno)))", at: nil)
            }
        }
        let current = Set(files.map(\.path))
        for stale in previous.subtracting(current).sorted() {
            let file = root + "/" + stale
            guard Self.isInside(stale), (try? manager.attributesOfItem(atPath: file))?[.type] as? FileAttributeType == .typeRegular else { continue }
            if (try? manager.removeItem(atPath: file)) != nil { summary.removed.append(stale) }
        }
        let index = files.map(\.path).joined(separator: "\n") + "\n"
        let indexTemporary = root + "/.authgate-tmp-\(ProcessInfo.processInfo.processIdentifier)-index"
        if manager.createFile(atPath: indexTemporary, contents: Data(index.utf8)) {
            _ = rename(indexTemporary, root + "/" + Self.indexName)
        }
        return summary
    }

    /// A path from the index that stays inside DIR.
    static func isInside(_ relative: String) -> Bool {
        !relative.hasPrefix("/") && !relative.split(separator: "/").contains("..")
    }
}
