import Foundation

/// The objects an Ingress migration reads, typed, each with its position. Ingress in
/// `networking.k8s.io/v1` and the legacy `networking.k8s.io/v1beta1` and
/// `extensions/v1beta1` (`serviceName`/`servicePort`); Traefik Middleware in
/// `traefik.io/v1alpha1` and the removed `traefik.containo.us/v1alpha1`; Service, to
/// resolve named ports. Server-set fields (status, uid, resourceVersion, managedFields,
/// creationTimestamp, the last-applied annotation) are never read.
struct IngressResources {
    var ingresses: [IngressResource] = []
    var middlewares: [String: MiddlewareResource] = [:]
    var services: [String: ServiceResource] = [:]
    /// Middlewares of Traefik's file provider (`NAME@file`), by name.
    var fileMiddlewares: [String: MiddlewareResource] = [:]
    /// IngressClass objects by name.
    var classes: [String: IngressClassResource] = [:]
    /// What shows that ingress-nginx ran with a global-auth-url (an Ingress's
    /// enable-global-auth, or the controller's ConfigMap), where the input shows it.
    var globalAuth: ManifestNode?
    /// Secrets by `namespace/name`: their keys, values decoded (for basic-auth users).
    var secrets: [String: [String: String]] = [:]

    static func read(_ objects: [ManifestObject], diagnostics: inout Diagnostics) throws(DiagnosticError) -> IngressResources {
        var resources = IngressResources()
        for object in objects {
            let namespace = object.namespace ?? "default"
            let relevant = ["Ingress", "Middleware", "Service"].contains(object.kind)
            if object.kind == "FileMiddleware" && object.apiVersion == "traefik.io/file-provider" {
                resources.fileMiddlewares[object.name] = MiddlewareResource(name: object.name, namespace: "", node: object.node, location: object.location)
                continue
            }
            if object.kind == "IngressClass" && (object.group == "networking.k8s.io" || object.group == "extensions") {
                let isDefault = object.annotation("ingressclass.kubernetes.io/is-default-class")?.string?.lowercased() == "true"
                resources.classes[object.name] = IngressClassResource(
                    name: object.name, controller: object.node["spec"]?["controller"]?.string, isDefault: isDefault, location: object.location)
                continue
            }
            // Names from the input become object names, references and file names:
            // they must be Kubernetes names, never something like ../x.
            for (field, value) in [("name", object.name), ("namespace", namespace)] where relevant {
                if let variable = PostBuildSubstitution.unresolved(in: value) {
                    throw DiagnosticError(PostBuildSubstitution.message("\(object.kind) \(field)", value, variable), at: object.node["metadata"]?[field]?.location ?? object.location)
                }
            }
            if relevant && !OutputDirectory.isSafeName(object.name) {
                throw DiagnosticError("\(object.kind) name '\(object.name)' is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')", at: object.node["metadata"]?["name"]?.location ?? object.location)
            }
            if relevant && !KubernetesName.isLabel(namespace) {
                throw DiagnosticError("\(object.kind) \(object.name): namespace '\(namespace)' is not a valid Kubernetes namespace", at: object.node["metadata"]?["namespace"]?.location ?? object.location)
            }
            switch (object.group, object.kind) {
            case ("networking.k8s.io", "Ingress"), ("extensions", "Ingress"):
                resources.ingresses.append(try IngressResource(object, namespace: namespace, diagnostics: &diagnostics))
            case ("traefik.io", "Middleware"), ("traefik.containo.us", "Middleware"):
                if object.group == "traefik.containo.us" {
                    diagnostics.append(.note("Middleware \(namespace)/\(object.name) uses the removed API group traefik.containo.us; its copies are written as traefik.io/v1alpha1", at: object.location))
                }
                resources.middlewares[namespace + "/" + object.name] = MiddlewareResource(name: object.name, namespace: namespace, node: object.node["spec"], location: object.location)
            case ("", "Secret"):
                var values: [String: String] = [:]
                for (key, value) in object.node["data"]?.entries ?? [] {
                    if let text = value.string, let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) { values[key] = String(decoding: data, as: UTF8.self) }
                }
                for (key, value) in object.node["stringData"]?.entries ?? [] {
                    if let text = value.string { values[key] = text }
                }
                resources.secrets[namespace + "/" + object.name] = values
            case ("", "Service"):
                var ports: [(name: String?, port: Int)] = []
                for port in object.node["spec"]?["ports"]?.sequence ?? [] {
                    if let number = port["port"]?.int { ports.append((port["name"]?.string, number)) }
                }
                resources.services[namespace + "/" + object.name] = ServiceResource(
                    name: object.name, namespace: namespace, ports: ports, type: object.node["spec"]?["type"]?.string,
                    externalName: object.node["spec"]?["externalName"]?.string)
            default:
                continue
            }
        }
        resources.ingresses.sort { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        // An Ingress that opts out of ingress-nginx's global-auth-url, or the
        // controller's ConfigMap setting it, says the controller protects every
        // other nginx Ingress with an auth server the Ingresses do not name.
        resources.globalAuth = resources.ingresses.lazy.compactMap { $0.annotation(NginxAuthAnnotations.prefix + "enable-global-auth") }.first
            ?? objects.lazy.filter { $0.kind == "ConfigMap" }.compactMap { $0.node["data"]?["global-auth-url"] }.first

        return resources
    }
}

struct IngressResource {
    var name: String
    var namespace: String
    /// `networking.k8s.io` or the legacy `extensions`.
    var group: String
    var location: SourceLocation
    /// `spec.ingressClassName`, else the `kubernetes.io/ingress.class` annotation.
    var className: String?
    var annotations: [(key: String, value: ManifestNode)]
    var defaultBackend: IngressBackend?
    var rules: [Rule]
    var tls: [(hosts: [String], secretName: String?, location: SourceLocation)]

    struct Rule {
        var host: String?
        /// The host as written (`host` is lower-cased).
        var writtenHost: String? = nil
        var paths: [Path]
        var location: SourceLocation
    }

    struct Path {
        var path: String
        /// Exact, Prefix or ImplementationSpecific (also when none was given).
        var pathType: String
        var backend: IngressBackend
        var location: SourceLocation
    }

    init(_ object: ManifestObject, namespace: String, diagnostics: inout Diagnostics) throws(DiagnosticError) {
        name = object.name
        self.namespace = namespace
        group = object.group
        location = object.location
        annotations = object.annotations
        let spec = object.node["spec"]
        className = spec?["ingressClassName"]?.string ?? object.annotation("kubernetes.io/ingress.class")?.string
        let legacy = object.apiVersion != "networking.k8s.io/v1"
        if let backend = spec?["defaultBackend"] ?? spec?["backend"] {
            defaultBackend = try IngressBackend(backend, legacy: legacy)
        }
        rules = []
        for rule in try Self.list(spec?["rules"], "spec.rules") {
            var paths: [Path] = []
            for path in try Self.list(rule["http"]?["paths"], "http.paths") {
                guard let backendNode = path["backend"] else {
                    throw DiagnosticError("Ingress \(namespace)/\(name): a path without a backend", at: path.location)
                }
                paths.append(Path(
                    path: path["path"]?.string ?? "", pathType: path["pathType"]?.string ?? "ImplementationSpecific",
                    backend: try IngressBackend(backendNode, legacy: legacy), location: path.location))
            }
            rules.append(Rule(host: rule["host"]?.string?.lowercased(), writtenHost: rule["host"]?.string, paths: paths, location: rule.location))
        }
        tls = try Self.list(spec?["tls"], "spec.tls").map { entry in
            ((entry["hosts"]?.sequence ?? []).compactMap(\.string), entry["secretName"]?.string, entry.location)
        }
        if let annotations = object.node["metadata"]?["annotations"], annotations.entries == nil, !annotations.isNull {
            throw DiagnosticError("metadata.annotations must be a mapping", at: annotations.location)
        }
    }

    /// A field that must be a list: absent or null is empty, anything else an error.
    static func list(_ node: ManifestNode?, _ field: String) throws(DiagnosticError) -> [ManifestNode] {
        guard let node, !node.isNull else { return [] }
        guard let items = node.sequence else {
            throw DiagnosticError("\(field) must be a list", at: node.location)
        }
        return items
    }

    func annotation(_ key: String) -> ManifestNode? {
        annotations.first { $0.key == key }?.value
    }
}

struct IngressBackend {
    enum Port: Equatable {
        case number(Int)
        case name(String)
    }

    var service: String
    var port: Port
    var location: SourceLocation

    init(_ node: ManifestNode, legacy: Bool) throws(DiagnosticError) {
        location = node.location
        if node["resource"] != nil {
            throw DiagnosticError("a resource backend cannot be migrated: Gateway API routes to Services", at: node.location)
        }
        if let service = node["service"] {
            guard let name = service["name"]?.string else { throw DiagnosticError("backend service without a name", at: service.location) }
            self.service = name
            if let number = service["port"]?["number"]?.int {
                port = .number(number)
            } else if let portName = service["port"]?["name"]?.string {
                port = .name(portName)
            } else {
                throw DiagnosticError("backend service \(name) has no port number or name", at: service.location)
            }
        } else if let name = node["serviceName"]?.string {
            service = name
            guard let written = node["servicePort"] else { throw DiagnosticError("backend \(name) has no servicePort", at: node.location) }
            if let number = written.int, written.isPlain { port = .number(number) } else { port = .name(written.string ?? "") }
        } else {
            throw DiagnosticError("an Ingress backend needs a service (service.name, or serviceName in \(legacy ? "this legacy API" : "v1beta1"))", at: node.location)
        }
    }
}

struct MiddlewareResource {
    var name: String
    var namespace: String
    var node: ManifestNode?
    var location: SourceLocation

    /// The one kind of Middleware this is (`forwardAuth`, `chain`, …) and its settings.
    var kind: (name: String, settings: ManifestNode)? {
        guard let entries = node?.entries, let first = entries.first else { return nil }
        return (first.key, first.value)
    }
}

struct ServiceResource {
    var name: String
    var namespace: String
    var ports: [(name: String?, port: Int)]
    var type: String?
    /// `spec.externalName` of an ExternalName Service.
    var externalName: String? = nil
}

/// An IngressClass: which controller serves the Ingresses of its name, and whether it
/// takes those without a class.
struct IngressClassResource {
    var name: String
    var controller: String?
    var isDefault: Bool
    var location: SourceLocation
}
