@testable import AuthgateCore
import Testing

/// How the parser groups tokens into blocks and segments, and the structural errors it
/// reports, following Caddy 2.11's parse.go (and parse_test.go's behaviours).
struct ParserTests {
    @Test func sitesAndSegments() throws {
        let (document, _) = try parse("""
            a.com {
            \treverse_proxy /api/* api:8080
            \thandle {
            \t\trespond "hi"
            \t}
            }
            b.com, c.com,
            d.com {
            \tredir https://x.com
            }
            """)
        #expect(document.sites.map { $0.addresses.map(\.original) } == [["a.com"], ["b.com", "c.com", "d.com"]])
        #expect(segmentTexts(document.sites[0]) == [["reverse_proxy", "/api/*", "api:8080"], ["handle", "{", "respond", "hi", "}"]])
        #expect(segmentTexts(document.sites[1]) == [["redir", "https://x.com"]])
    }

    @Test func addressesSeparatedBySpacesAndCommasOverLines() throws {
        let (document, _) = try parse("a.com b.com,\n  c.com, d.com {\n\trespond x\n}")
        #expect(document.sites[0].addresses.map(\.original) == ["a.com", "b.com", "c.com", "d.com"])
    }

    @Test func singleSiteWithoutBraces() throws {
        let (document, _) = try parse("localhost\n\nreverse_proxy app:80\nlog\n")
        #expect(document.sites.count == 1)
        #expect(document.sites[0].block.hasBraces == false)
        #expect(segmentTexts(document.sites[0]) == [["reverse_proxy", "app:80"], ["log"]])
    }

    @Test func siteBraceOnTheNextLineIsAccepted() throws {
        // Caddy 2.11 accepts `{` alone on the line after the site addresses.
        let (document, _) = try parse("a.com\n{\n\trespond x\n}")
        #expect(segmentTexts(document.sites[0]) == [["respond", "x"]])
    }

    @Test func onlyAddressesIsASiteWithNoDirectives() throws {
        let (document, _) = try parse("a.com")
        #expect(document.sites.count == 1)
        #expect(document.sites[0].block.segments.isEmpty)
    }

    @Test func globalOptionsBlockComesFirst() throws {
        let (document, _) = try parse("{\n\temail a@b.c\n\thttp_port 8080\n}\na.com {\n}")
        #expect(document.globalOptions?.segments.map(\.directive) == ["email", "http_port"])
        #expect(document.sites.count == 1)
    }

    @Test func globalOptionsChangeThePortConvention() throws {
        #expect(parseError("{\n\thttp_port 8080\n}\nhttp://a.com:8080 {\n}") == nil)
        #expect(parseError("http://a.com:443 {\n}")?.message.contains("scheme and port violate convention") == true)
    }

    @Test func quotedBracesAreNotStructure() throws {
        let (document, _) = try parse("a.com {\n\trespond \"{\" 200\n\trespond hi\n}\nb.com {\n\trespond b\n}")
        #expect(document.sites.count == 2)
        #expect(segmentTexts(document.sites[0]) == [["respond", "{", "200"], ["respond", "hi"]])
    }

    @Test func closingBraceInsideALineClosesTheNesting() throws {
        // Caddy's parser counts a `}` anywhere once a block is open.
        let (document, _) = try parse("a.com {\n\thandle {\n\t\trespond x }\n}")
        #expect(segmentTexts(document.sites[0]) == [["handle", "{", "respond", "x", "}"]])
    }

    @Test func siteLeftOpenAtAClosingBraceIsReadWithAWarning() throws {
        let (document, diagnostics) = try parse("a.com {\n\thandle {\n\t\trespond x\n\t}\n")
        #expect(document.sites.count == 1)
        #expect(diagnostics.warnings.first?.message.contains("never closed") == true)
        #expect(diagnostics.warnings.first?.location?.line == 1)
    }

    static let errorCases: [PositionedError] = [
        PositionedError(name: "brace alone on a new line inside a site", input: "a.com {\n\theader\n\t{\n\t\tX y\n\t}\n}", message: "unexpected '{' on a new line", line: 3, column: 2),
        PositionedError(name: "token after an opening brace", input: "a.com {\n\theader { X y\n\t}\n}", message: "unexpected token after '{' on the same line", line: 2, column: 9),
        PositionedError(name: "empty braces at the end of a line", input: "a.com {\n\theader {}\n}", message: "unexpected '{}' at end of line", line: 2, column: 9),
        PositionedError(name: "address glued to its brace", input: "a.com{\n\trespond hi\n}", message: "site addresses cannot end with a curly brace", line: 1, column: 1),
        PositionedError(name: "stray closing brace after a site", input: "a.com {\n\trespond hi\n}\n}", message: "unexpected '}' because no matching opening brace", line: 4, column: 1),
        PositionedError(name: "stray closing brace inside a line", input: "a.com {\n\trespond hi }\n}", message: "unexpected '}' because no matching opening brace", line: 2, column: 13),
        PositionedError(name: "unclosed site block", input: "a.com {\n\trespond x\n", message: "never closed", line: 1, column: 7),
        PositionedError(name: "unclosed directive block", input: "a.com {\n\thandle {\n\t\trespond x\n", message: "never closed", line: 2, column: 9),
        PositionedError(name: "trailing comma before the brace", input: "a.com, {\n}", message: "expected another address", line: 1, column: 8),
        PositionedError(name: "comma without a space", input: "a.com,b.com {\n}", message: "cannot contain a comma", line: 1, column: 1),
        PositionedError(name: "trailing comma at the end of the file", input: "a.com,", message: "expected another site address", line: 1, column: 1),
        PositionedError(name: "matcher at the top level", input: "@foo {\n\tpath /x\n}", message: "request matchers may not be defined globally", line: 1, column: 1),
        PositionedError(name: "global options after a site", input: "a.com {\n}\n{\n\tdebug\n}", message: "global options block", line: 3, column: 1),
        PositionedError(name: "directive as a site address", input: "handle {\n\trespond x\n}", message: "known directive", line: 1, column: 1),
        PositionedError(name: "duplicate site address", input: ":8080 {\n\trespond one\n}\n\n:8080 {\n\trespond two\n}", message: "ambiguous site definition", line: 5, column: 1),
        PositionedError(name: "second site in a braceless file", input: "example.com\nrespond one\nexample.net\nrespond two", message: "did you mean to define a second site", line: 3, column: 1),
        PositionedError(name: "snippet declared twice", input: "(a) {\n}\n(a) {\n}", message: "redeclaration of previously declared snippet a", line: 3, column: 1),
        PositionedError(name: "unsupported scheme", input: "foo://example.com {\n}", message: "unsupported URL scheme foo://", line: 1, column: 1),
        PositionedError(name: "wss scheme", input: "wss://example.com {\n}", message: "wss:// is only supported in browsers", line: 1, column: 1),
        PositionedError(name: "ws scheme", input: "ws://example.com {\n}", message: "ws:// is only supported in browsers; use http://", line: 1, column: 1),
        PositionedError(name: "port out of range", input: ":70000 {\n}", message: "port 70000 is out of range", line: 1, column: 1),
        PositionedError(name: "negative port", input: "a.com, :-1 {\n}", message: "port -1 is out of range", line: 1, column: 8),
        PositionedError(name: "port not a number", input: "a.com:abc {\n}", message: "invalid port 'abc'", line: 1, column: 1),
        PositionedError(name: "https on the http port", input: "https://a.com:80 {\n}", message: "scheme and port violate convention", line: 1, column: 1),
    ]

    @Test(arguments: errorCases)
    func structuralErrors(_ testCase: PositionedError) {
        let diagnostic = parseError(testCase.input)
        #expect(diagnostic?.severity == .error)
        #expect(diagnostic?.message.contains(testCase.message) == true, "\(diagnostic?.message ?? "no error")")
        #expect(diagnostic?.location?.line == testCase.line)
        #expect(diagnostic?.location?.column == testCase.column)
    }

    @Test func unknownPluginDirectiveInABracelessSiteIsLeftForTheImporter() throws {
        let (document, _) = try parse("example.com\nrate_limit 10r/s\nreverse_proxy app:80")
        #expect(document.sites[0].block.segments.map(\.directive) == ["rate_limit", "reverse_proxy"])
    }

    @Test func sameAddressTwiceInOneBlockOrOnDifferentBindsIsFine() {
        #expect(parseError("a.com a.com {\n}") == nil)
        #expect(parseError(":8002 {\n}\n:8002 {\n\tbind 10.0.0.1\n}") == nil)
    }

    @Test func namedRoutesKeepTheirBody() throws {
        let (document, _) = try parse("&(app) {\n\treverse_proxy app:80\n}\na.com {\n\tinvoke app\n}")
        #expect(document.namedRoutes.count == 1)
        #expect(document.namedRoutes[0].keys.map(\.text) == ["app"])
        #expect(document.namedRoutes[0].segments[0].tokens.map(\.text) == ["app", "{", "reverse_proxy", "app:80", "}"])
        #expect(document.sites.map { $0.addresses.map(\.original) } == [["a.com"]])
    }
}

/// Site addresses split as Caddy's ParseAddress splits them.
struct SiteAddressTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var input: String
        var scheme: String
        var host: String
        var port: String
        var path: String
        var testDescription: String { input }
    }

    static let cases: [Case] = [
        Case(input: "example.com", scheme: "", host: "example.com", port: "", path: ""),
        Case(input: "https://example.com", scheme: "https", host: "example.com", port: "", path: ""),
        Case(input: "HTTP://example.com:8080/api", scheme: "http", host: "example.com", port: "8080", path: "/api"),
        Case(input: ":8080", scheme: "", host: "", port: "8080", path: ""),
        Case(input: "*.example.com", scheme: "", host: "*.example.com", port: "", path: ""),
        Case(input: "[::1]:2015", scheme: "", host: "::1", port: "2015", path: ""),
        Case(input: "::1", scheme: "", host: "::1", port: "", path: ""),
        Case(input: "localhost:", scheme: "", host: "localhost", port: "", path: ""),
        Case(input: "example.com/foo/*", scheme: "", host: "example.com", port: "", path: "/foo/*"),
        Case(input: "http://", scheme: "http", host: "", port: "", path: ""),
    ]

    @Test(arguments: cases)
    func split(_ testCase: Case) throws {
        let token = Token(text: testCase.input, line: 1, location: SourceLocation(file: "f", line: 1, column: 1))
        let address = try SiteAddress.parse(token)
        #expect([address.scheme, address.host, address.port, address.path] == [testCase.scheme, testCase.host, testCase.port, testCase.path])
    }
}
