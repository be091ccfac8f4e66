@testable import AuthgateCore
import Testing

/// `import` of snippets and files, with arguments and blocks, as Caddy 2.11 expands them.
struct ImportTests {
    @Test func snippetIsExpandedWhereImported() throws {
        let (document, _) = try parse("""
            (auth) {
            \tforward_auth authentik:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            }
            a.com {
            \timport auth
            \treverse_proxy app:80
            }
            """)
        #expect(segmentTexts(document.sites[0]) == [
            ["forward_auth", "authentik:9000", "{", "uri", "/outpost.goauthentik.io/auth/caddy", "}"],
            ["reverse_proxy", "app:80"],
        ])
        let imported = document.sites[0].block.segments[0].tokens[0]
        #expect(imported.location.line == 2)
        #expect(imported.importChain.map(\.location.line) == [7])
        #expect(imported.importChain.first?.snippet == "auth")
    }

    @Test func argumentsReplacePlaceholders() throws {
        let (document, diagnostics) = try parse("""
            (proxy) {
            \treverse_proxy {args[0]} {args.1}
            \theader X-App app-{args[0]}-x
            \trespond {args[1:]}
            \tlog {args[:]}
            \tvars {args[5]}
            }
            a.com {
            \timport proxy app:80 two three
            }
            """)
        #expect(segmentTexts(document.sites[0]) == [
            ["reverse_proxy", "app:80", "two"],
            ["header", "X-App", "app-app:80-x"],
            ["respond", "two", "three"],
            ["log", "app:80", "two", "three"],
            ["vars", "{args[5]}"],
        ])
        let messages = diagnostics.warnings.map(\.message)
        #expect(messages.contains { $0.contains("{args.1} is deprecated") })
        #expect(messages.contains { $0.contains("{args[5]} index is out of bounds") })
    }

    @Test func emptyVariadicRangeRemovesTheToken() throws {
        let (document, _) = try parse("(s) {\n\treverse_proxy {args[:]}\n}\na.com {\n\timport s\n}")
        #expect(segmentTexts(document.sites[0]) == [["reverse_proxy"]])
    }

    @Test func escapedBracesLoseTheirBackslashInImportedTokens() throws {
        let (document, _) = try parse("(s) {\n\trespond \\{x\\}\n}\na.com {\n\timport s\n}")
        #expect(segmentTexts(document.sites[0]) == [["respond", "{x}"]])
    }

    @Test func blockAndNamedBlocksAreSubstituted() throws {
        let (document, _) = try parse("""
            (site) {
            \treverse_proxy app:80 {
            \t\t{block}
            \t}
            \theader {
            \t\t{blocks.headers}
            \t}
            \t{blocks.missing}
            }
            a.com {
            \timport site {
            \t\theaders {
            \t\t\tX-Frame DENY
            \t\t}
            \t\tlb_policy first
            \t}
            }
            """)
        #expect(segmentTexts(document.sites[0]) == [
            ["reverse_proxy", "app:80", "{", "headers", "{", "X-Frame", "DENY", "}", "lb_policy", "first", "}"],
            ["header", "{", "X-Frame", "DENY", "}"],
        ])
    }

    @Test func anonymousImportBlockIsAnError() {
        let error = parseError("(s) {\n\t{block}\n}\na.com {\n\timport s {\n\t\t{\n\t\t\tfoo\n\t\t}\n\t}\n}")
        #expect(error?.message.contains("anonymous blocks are not supported") == true)
    }

    @Test func fileImportIsRelativeToTheImportingFile() throws {
        let (document, _) = try parse(
            "import sites/*.caddy\n",
            files: [
                "sites/a.caddy": "a.com {\n\timport ../common/proxy.caddy\n}\n",
                "sites/b.caddy": "b.com {\n\trespond b\n}\n",
                "sites/.hidden.caddy": "hidden.com {\n}\n",
                "common/proxy.caddy": "reverse_proxy app:80\n",
            ])
        #expect(document.sites.map { $0.addresses.map(\.original) } == [["a.com"], ["b.com"]])
        let proxy = document.sites[0].block.segments[0].tokens[0]
        #expect(proxy.location == SourceLocation(file: "common/proxy.caddy", line: 1, column: 1))
        #expect(proxy.importChain.map(\.location.file) == ["sites/a.caddy"])
    }

    @Test func globStarSkipsDotfilesOnlyWhenTheSegmentStartsWithStar() throws {
        let files = ["conf/.x.caddy": "x.com {\n}\n", "conf/y.caddy": "y.com {\n}\n"]
        #expect(try parse("import conf/*", files: files).0.sites.count == 1)
        #expect(try parse("import conf/.*", files: files).0.sites.count == 1)
    }

    @Test func snippetsAreTriedBeforeFiles() throws {
        let (document, _) = try parse("(common) {\n\trespond snippet\n}\na.com {\n\timport common\n}", files: ["common": "respond file\n"])
        #expect(segmentTexts(document.sites[0]) == [["respond", "snippet"]])
    }

    @Test func globWithoutMatchesIsAWarningButAMissingFileIsAnError() throws {
        let (_, diagnostics) = try parse("a.com {\n\timport nothing/*.caddy\n}")
        #expect(diagnostics.warnings.first?.message.contains("no files match") == true)
        let error = parseError("a.com {\n\timport missing.caddy\n}")
        #expect(error?.message == "file to import not found: missing.caddy")
        #expect(error?.location == SourceLocation(file: "Caddyfile", line: 2, column: 2))
    }

    @Test func globsWithMoreThanOneWildcardAreRefused() {
        #expect(parseError("import */*.caddy")?.message.contains("only contain one wildcard") == true)
        #expect(parseError("import conf/[ab].caddy")?.message.contains("only contain one wildcard") == true)
    }

    @Test func importingADirectoryIsAnError() {
        let error = parseError("import conf", files: ["conf/a": "a.com {\n}\n"])
        #expect(error?.message.contains("is a directory") == true)
    }

    @Test func snippetCycleIsReportedWithItsChain() {
        let error = parseError("(import1) {\n\timport import2\n}\n\n(import2) {\n\timport import1\n}\n\nimport import1\n")
        #expect(error?.message.hasPrefix("import cycle: ") == true)
        #expect(error?.message.contains("(import1)") == true)
        #expect(error?.message.contains("(import2)") == true)
        #expect(error?.location?.line == 6)
    }

    @Test func fileCycleThroughSeveralFilesIsReported() {
        let error = parseError("import conf/a.caddy", files: ["conf/a.caddy": "import b.caddy\n", "conf/b.caddy": "import c.caddy\n", "conf/c.caddy": "import a.caddy\n"])
        #expect(error?.message.hasPrefix("import cycle: ") == true)
        #expect(error?.message.contains("conf/c.caddy → conf/a.caddy → conf/b.caddy → conf/c.caddy") == true, "\(error?.message ?? "")")
        #expect(error?.location?.file == "conf/c.caddy")
    }

    @Test func importingTheSameSnippetTwiceIsNoCycle() throws {
        let (document, _) = try parse("(s) {\n\tlog\n}\na.com {\n\timport s\n\timport s\n}")
        #expect(segmentTexts(document.sites[0]) == [["log"], ["log"]])
    }

    @Test func exponentialExpansionIsStopped() {
        var text = "(s0) {\n\tlog\n}\n"
        for level in 1...24 {
            text += "(s\(level)) {\n\timport s\(level - 1)\n\timport s\(level - 1)\n}\n"
        }
        text += "a.com {\n\timport s24\n}\n"
        do {
            _ = try parse(text, importedTokenBudget: 50_000)
            Issue.record("an expansion of 2^24 tokens was accepted")
        } catch {
            #expect(error.diagnostic.message.contains("imports expand to more than 50000 tokens"))
        }
    }

    @Test func errorInAnImportedFilePointsIntoItWithTheImportChain() {
        let error = parseError("a.com {\n\timport bad.caddy\n}", files: ["bad.caddy": "respond <<EOF\nhello\n"])
        #expect(error?.location?.file == "bad.caddy")
        #expect(error?.location?.line == 1)
        #expect(error?.importChain.map(\.location) == [SourceLocation(file: "Caddyfile", line: 2, column: 2)])
        #expect(error?.description.contains("Caddyfile:2:2: note: imported from here") == true)
    }

    @Test func snippetDefinedInAnImportedFileKeepsItsPlaceholders() throws {
        let (document, _) = try parse(
            "import snippets.caddy outer\na.com {\n\timport inner value\n}",
            files: ["snippets.caddy": "(inner) {\n\trespond {args[0]}\n}\n"])
        #expect(segmentTexts(document.sites[0]) == [["respond", "value"]])
    }

    @Test func importOfSitesAtTheTopLevel() throws {
        let (document, _) = try parse("(site) {\n\t{args[0]} {\n\t\treverse_proxy {args[1]}\n\t}\n}\nimport site a.com a:80\nimport site b.com b:80\n")
        #expect(document.sites.map { $0.addresses.map(\.original) } == [["a.com"], ["b.com"]])
        #expect(segmentTexts(document.sites[1]) == [["reverse_proxy", "b:80"]])
    }
}

/// `{$VAR}` expansion before lexing.
struct EnvironmentTests {
    @Test func variablesAndDefaults() throws {
        let tokens = try lex("{$HOST} {$PORT:8080} {$UNSET} {$UNSET:fallback} {env.HOST} {$}", environment: ["HOST": "example.com", "PORT": "9000"])
        #expect(tokens.map(\.text) == ["example.com", "9000", "fallback", "{env.HOST}", "{$}"])
    }

    @Test func aValueMayBecomeSeveralTokensAndIsNotExpandedAgain() throws {
        let tokens = try lex("reverse_proxy {$UPSTREAMS}", environment: ["UPSTREAMS": "a:1 b:2 {$UPSTREAMS}"])
        #expect(tokens.map(\.text) == ["reverse_proxy", "a:1", "b:2", "{$UPSTREAMS}"])
    }

    @Test func aDefaultMayContainColons() throws {
        let tokens = try lex("{$UPSTREAM:http://app:8080}")
        #expect(tokens.map(\.text) == ["http://app:8080"])
    }

    @Test func anEmptyValueWinsOverTheDefault() throws {
        let tokens = try lex("a {$EMPTY:default} b", environment: ["EMPTY": ""])
        #expect(tokens.map(\.text) == ["a", "b"])
    }

    @Test func expandedTokensPointAtThePlaceholderAndLaterTokensKeepTheirColumns() throws {
        let tokens = try lex("{$HOST} {\n\trespond {$A}x\n}", environment: ["HOST": "averyveryverylong.example.com", "A": "1 2"])
        #expect(tokens.map(\.text) == ["averyveryverylong.example.com", "{", "respond", "1", "2x", "}"])
        #expect(tokens[1].location.column == 9)
        #expect(tokens[3].location == SourceLocation(file: "Caddyfile", line: 2, column: 10))
        #expect(tokens[5].location.line == 3)
    }

    @Test func valuesMayIntroduceBracesThatBecomeStructure() throws {
        let (document, _) = try parse("a.com {$OPEN}\n\trespond x\n}", environment: ["OPEN": "{"])
        #expect(segmentTexts(document.sites[0]) == [["respond", "x"]])
    }
}
