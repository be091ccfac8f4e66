/// The objects of a new Authentik proxy outpost in the cluster, for Authentik servers
/// the cluster cannot reach as a Service (`localhost:9000`, `authentik.lan:9000`, a
/// compose name). This is Authentik's manual Kubernetes outpost deployment, modernised:
/// `stringData`, a pinned image that must match the server's version, health probes
/// on the outpost's `/outpost.goauthentik.io/ping` (port 9300, as the image's own
/// HEALTHCHECK uses), and placeholders instead of a token that was not given.
enum AuthentikOutpost {
    static func objects(_ options: TraefikOptions) -> [KubeObject] {
        let labels: [YAMLValue.Entry] = [
            .init("app.kubernetes.io/name", .string("authentik-outpost")),
            .init("app.kubernetes.io/instance", .string(options.outpostName)),
        ]
        let allLabels = labels + [.init("app.kubernetes.io/version", .string(options.authentikVersion))] + KubeLabels.managed
        let secretName = options.outpostName + "-api"
        let namespace = KubeObject(apiVersion: "v1", kind: "Namespace", name: options.outpostNamespace, namespace: nil, labels: KubeLabels.managed, fields: [])
        let secret = KubeObject(
            apiVersion: "v1", kind: "Secret", name: secretName, namespace: options.outpostNamespace, labels: allLabels,
            fields: [
                .init("type", .string("Opaque")),
                .init("stringData", .object([
                    ("authentik_host", .string(options.authentikHost ?? TraefikOptions.hostPlaceholder)),
                    ("authentik_host_insecure", .string("false")),
                    ("authentik_token", .string(options.authentikToken ?? TraefikOptions.tokenPlaceholder)),
                ])),
            ])
        let service = KubeObject(
            apiVersion: "v1", kind: "Service", name: options.outpostName, namespace: options.outpostNamespace, labels: allLabels,
            fields: [.init("spec", .object([
                ("type", .string("ClusterIP")),
                ("selector", .map(labels)),
                ("ports", .list([
                    .object([("name", .string("http")), ("protocol", .string("TCP")), ("port", .int(options.outpostPort)), ("targetPort", .string("http"))]),
                ])),
            ]))])
        func secretEnv(_ name: String, _ key: String) -> YAMLValue {
            .object([("name", .string(name)), ("valueFrom", .object([("secretKeyRef", .object([("name", .string(secretName)), ("key", .string(key))]))]))])
        }
        let probe: YAMLValue = .object([("httpGet", .object([("path", .string("/outpost.goauthentik.io/ping")), ("port", .string("metrics"))]))])
        let container: YAMLValue = .object([
            ("name", .string("proxy")),
            ("image", .string("ghcr.io/goauthentik/proxy:\(options.authentikVersion)")),
            ("env", .list([
                secretEnv("AUTHENTIK_HOST", "authentik_host"),
                secretEnv("AUTHENTIK_TOKEN", "authentik_token"),
                secretEnv("AUTHENTIK_INSECURE", "authentik_host_insecure"),
            ])),
            ("ports", .list([
                .object([("name", .string("http")), ("containerPort", .int(9000)), ("protocol", .string("TCP"))]),
                .object([("name", .string("https")), ("containerPort", .int(9443)), ("protocol", .string("TCP"))]),
                .object([("name", .string("metrics")), ("containerPort", .int(9300)), ("protocol", .string("TCP"))]),
            ])),
            ("readinessProbe", probe),
            ("livenessProbe", probe),
        ])
        let deployment = KubeObject(
            apiVersion: "apps/v1", kind: "Deployment", name: options.outpostName, namespace: options.outpostNamespace, labels: allLabels,
            fields: [.init("spec", .object([
                ("replicas", .int(1)),
                ("selector", .object([("matchLabels", .map(labels))])),
                ("template", .object([
                    ("metadata", .object([("labels", .map(labels))])),
                    ("spec", .object([("containers", .list([container]))])),
                ])),
            ]))])
        return [namespace, secret, service, deployment]
    }
}
