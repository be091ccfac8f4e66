@testable import AuthgateCore
import Testing

/// The lexer's behaviour, case by case, as Caddy 2.11's lexer behaves (the cases follow
/// the behaviours exercised by caddyconfig/caddyfile/lexer_test.go; the expected logical
/// line numbers are Caddy's).
struct LexerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: String
        var expected: [(Int, String)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "one word", input: "host:123", expected: [(1, "host:123")]),
        Case(name: "blank lines advance the line", input: "host:123\n\n\t\tdirective", expected: [(1, "host:123"), (3, "directive")]),
        Case(name: "braces are words", input: "host:123 {\n\tdirective\n}", expected: [(1, "host:123"), (1, "{"), (2, "directive"), (3, "}")]),
        Case(name: "one-line block", input: "host:123 { directive }", expected: [(1, "host:123"), (1, "{"), (1, "directive"), (1, "}")]),
        Case(
            name: "comments are skipped to the end of the line",
            input: "host:123 {\n\t#comment\n\tdirective\n\t# comment\n\tfoobar # another comment\n}",
            expected: [(1, "host:123"), (1, "{"), (3, "directive"), (5, "foobar"), (6, "}")]),
        Case(
            name: "a hash inside a word is not a comment",
            input: "redir / /some/#/path", expected: [(1, "redir"), (1, "/"), (1, "/some/#/path")]),
        Case(name: "comments at the top", input: "# one\n# two\nhost:123", expected: [(3, "host:123")]),
        Case(name: "double quotes group words", input: "a \"quoted value\" b\nfoobar", expected: [(1, "a"), (1, "quoted value"), (1, "b"), (2, "foobar")]),
        Case(name: "escaped quote inside quotes", input: #"A "quoted \"value\" inside" B"#, expected: [(1, "A"), (1, #"quoted "value" inside"#), (1, "B")]),
        Case(
            name: "escaped newline inside quotes stays in the text",
            input: "An escaped \"newline\\\ninside\" quotes",
            expected: [(1, "An"), (1, "escaped"), (1, "newline\\\ninside"), (2, "quotes")]),
        Case(
            name: "escaped newline outside quotes joins lines",
            input: "An escaped newline\\\noutside quotes",
            expected: [(1, "An"), (1, "escaped"), (1, "newline"), (1, "outside"), (1, "quotes")]),
        Case(
            name: "line count catches up after a joined line",
            input: "line1\\\nescaped\nline2\nline3", expected: [(1, "line1"), (1, "escaped"), (3, "line2"), (4, "line3")]),
        Case(
            name: "two joined lines",
            input: "line1\\\nescaped1\\\nescaped2\nline4\nline5",
            expected: [(1, "line1"), (1, "escaped1"), (1, "escaped2"), (4, "line4"), (5, "line5")]),
        Case(name: "other backslashes stay inside quotes", input: #""unescapable\ in quotes""#, expected: [(1, #"unescapable\ in quotes"#)]),
        Case(name: "backslash before a letter stays", input: #""don't\escape""#, expected: [(1, #"don't\escape"#)]),
        Case(name: "double backslash stays double", input: #""don't\\escape""#, expected: [(1, #"don't\\escape"#)]),
        Case(name: "backslash outside quotes stays", input: #"un\escapable"#, expected: [(1, #"un\escapable"#)]),
        Case(
            name: "quoted text spans lines",
            input: "A \"quoted value with line\n\tbreak inside\" {\n\tfoobar\n}",
            expected: [(1, "A"), (1, "quoted value with line\n\tbreak inside"), (2, "{"), (3, "foobar"), (4, "}")]),
        Case(name: "windows path in quotes", input: #""C:\php\php-cgi.exe""#, expected: [(1, #"C:\php\php-cgi.exe"#)]),
        Case(name: "empty quoted string is a token", input: "empty \"\" string", expected: [(1, "empty"), (1, ""), (1, "string")]),
        Case(name: "CR is ignored", input: "skip those\r\nCR characters", expected: [(1, "skip"), (1, "those"), (2, "CR"), (2, "characters")]),
        Case(name: "leading byte order mark is skipped", input: "\u{FEFF}:8080", expected: [(1, ":8080")]),
        Case(name: "backtick quotes", input: "simple `backtick quoted` string", expected: [(1, "simple"), (1, "backtick quoted"), (1, "string")]),
        Case(name: "multi-line backticks", input: "multiline `backtick\nquoted\n` string", expected: [(1, "multiline"), (1, "backtick\nquoted\n"), (3, "string")]),
        Case(name: "double quotes inside backticks", input: "nested `\"quotes inside\" backticks` string", expected: [(1, "nested"), (1, "\"quotes inside\" backticks"), (1, "string")]),
        Case(name: "backticks inside double quotes", input: "reverse-nested \"`backticks` inside\" quotes", expected: [(1, "reverse-nested"), (1, "`backticks` inside"), (1, "quotes")]),
        Case(name: "backslash has no effect in backticks", input: "`a\\`", expected: [(1, "a\\")]),
        Case(name: "heredoc", input: "heredoc <<EOF\ncontent\nEOF same-line-arg\n\t", expected: [(1, "heredoc"), (1, "content"), (3, "same-line-arg")]),
        Case(name: "long heredoc marker", input: "heredoc <<VERY-LONG-MARKER\ncontent\nVERY-LONG-MARKER same-line-arg\n\t", expected: [(1, "heredoc"), (1, "content"), (3, "same-line-arg")]),
        Case(name: "heredoc keeps an inner blank line", input: "heredoc <<EOF\nextra-newline\n\nEOF same-line-arg\n\t", expected: [(1, "heredoc"), (1, "extra-newline\n"), (4, "same-line-arg")]),
        Case(name: "empty heredoc", input: "heredoc <<EOF\nEOF\n\tHERE same-line-arg\n\t", expected: [(1, "heredoc"), (1, ""), (3, "HERE"), (3, "same-line-arg")]),
        Case(name: "empty indented heredoc", input: "heredoc <<EOF\n\t\tEOF same-line-arg\n\t", expected: [(1, "heredoc"), (1, ""), (2, "same-line-arg")]),
        Case(name: "heredoc indentation is stripped", input: "heredoc <<EOF\n\tcontent\n\tEOF same-line-arg\n\t", expected: [(1, "heredoc"), (1, "content"), (3, "same-line-arg")]),
        Case(
            name: "heredoc strips only the marker's indentation",
            input: "prev-line\n\theredoc <<EOF\n\t\tmulti\n\t\tline\n\t\tcontent\n\tEOF same-line-arg\n\tnext-line\n\t",
            expected: [(1, "prev-line"), (2, "heredoc"), (2, "\tmulti\n\tline\n\tcontent"), (6, "same-line-arg"), (7, "next-line")]),
        Case(name: "escaped heredoc", input: "escaped-heredoc \\<< >>", expected: [(1, "escaped-heredoc"), (1, "<<"), (1, ">>")]),
        Case(name: "one angle is no heredoc", input: "not-a-heredoc <EOF\n\tcontent\n\t", expected: [(1, "not-a-heredoc"), (1, "<EOF"), (2, "content")]),
        Case(name: "three angles followed by a space is a word", input: "not-a-heredoc <<<EOF content", expected: [(1, "not-a-heredoc"), (1, "<<<EOF"), (1, "content")]),
        Case(name: "quoted angles are words", input: "not-a-heredoc \"<<\" \">>\"", expected: [(1, "not-a-heredoc"), (1, "<<"), (1, ">>")]),
        Case(name: "angles then a space are a word", input: "not-a-heredoc << >>", expected: [(1, "not-a-heredoc"), (1, "<<"), (1, ">>")]),
        Case(
            name: "a marker followed by words is no heredoc",
            input: "not-a-heredoc <<HERE SAME LINE\n\tcontent\n\tHERE same-line-arg\n\t",
            expected: [(1, "not-a-heredoc"), (1, "<<HERE"), (1, "SAME"), (1, "LINE"), (2, "content"), (3, "HERE"), (3, "same-line-arg")]),
        Case(
            name: "heredoc blank lines need no indentation",
            input: "heredoc <<EOF\n\tOne tab indented heredoc with blank next line\n\n\tOne tab indented heredoc with blank previous line\n\tEOF",
            expected: [(1, "heredoc"), (1, "One tab indented heredoc with blank next line\n\nOne tab indented heredoc with blank previous line")]),
        Case(
            name: "heredoc line with only whitespace is kept",
            input: "heredoc <<EOF\nThe next line has one tab\n\t\nThe previous line has one tab\nEOF",
            expected: [(1, "heredoc"), (1, "The next line has one tab\n\t\nThe previous line has one tab")]),
        Case(name: "heredoc CR is removed", input: "heredoc <<EOF\r\nline\r\nEOF", expected: [(1, "heredoc"), (1, "line")]),
        Case(name: "braces inside quotes are text", input: "respond \"{\" \"}\"", expected: [(1, "respond"), (1, "{"), (1, "}")]),
        Case(name: "an escaped space just ends the word", input: "a\\ b", expected: [(1, "a"), (1, "b")]),
        Case(name: "a comment ending in a backslash joins the next line", input: "a # note \\\nb\nc", expected: [(1, "a"), (1, "b"), (3, "c")]),
        Case(name: "CR inside a word is dropped", input: "ab\rcd", expected: [(1, "abcd")]),
        Case(name: "tabs and spaces separate words", input: "a\tb  c", expected: [(1, "a"), (1, "b"), (1, "c")]),
    ]

    @Test(arguments: cases)
    func tokens(_ testCase: Case) throws {
        let actual = try lex(testCase.input)
        #expect(lines(actual) == testCase.expected.map { LineText($0.0, $0.1) })
    }

    static let errorCases: [PositionedError] = [
        PositionedError(name: "missing heredoc marker", input: "not-a-heredoc <<\n", message: "missing opening heredoc marker", line: 1, column: 15),
        PositionedError(name: "too many angles", input: "heredoc <<<EOF\n\tcontent\n\tEOF same-line-arg\n\t", message: "too many '<' for heredoc", line: 1, column: 9),
        PositionedError(name: "incomplete heredoc", input: "heredoc <<EOF\n\tcontent\n\t", message: "incomplete heredoc <<EOF", line: 1, column: 9),
        PositionedError(name: "heredoc with nothing after the marker line", input: "heredoc <<EOF\n", message: "incomplete heredoc <<EOF", line: 1, column: 9),
        PositionedError(name: "mismatched heredoc indentation (tabs)", input: "heredoc <<EOF\n\tcontent\n\t\tEOF\n\t", message: "mismatched leading whitespace in heredoc <<EOF", line: 2, column: 1),
        PositionedError(name: "mismatched heredoc indentation (spaces for tabs)", input: "heredoc <<EOF\n        content\n\t\tEOF\n\t", message: "mismatched leading whitespace", line: 2, column: 1),
        PositionedError(
            name: "whitespace-only line shorter than the marker's indentation",
            input: "heredoc <<EOF\n\t\tThe next line is short\n\t\n\t\tThe previous line is short\n\t\tEOF", message: "mismatched leading whitespace", line: 3, column: 1),
        PositionedError(name: "invalid heredoc marker", input: "respond <<END!\nHello\nEND!\n", message: "heredoc marker must contain only alphanumeric characters, dashes and underscores; got 'END!'", line: 1, column: 9),
        PositionedError(name: "unterminated double quote", input: "a.com {\n\trespond \"hi\n}\n", message: "unterminated quoted text", line: 2, column: 10),
        PositionedError(name: "unterminated backtick", input: "a `b", message: "unterminated quoted text", line: 1, column: 3),
    ]

    @Test(arguments: errorCases)
    func errors(_ testCase: PositionedError) {
        #expect(throws: DiagnosticError.self) { _ = try lex(testCase.input) }
        do {
            _ = try lex(testCase.input)
        } catch {
            #expect(error.diagnostic.message.contains(testCase.message), "\(error.diagnostic.message)")
            #expect(error.diagnostic.location?.line == testCase.line)
            #expect(error.diagnostic.location?.column == testCase.column)
        }
    }

    @Test func physicalPositionsAreKeptWhenLinesAreJoined() throws {
        let tokens = try lex("reverse_proxy a:1 \\\n\tb:2\nnext")
        #expect(tokens.map(\.line) == [1, 1, 1, 3])
        #expect(tokens.map(\.location.line) == [1, 1, 2, 3])
        #expect(tokens.map(\.location.column) == [1, 15, 2, 1])
    }

    @Test func columnsCountScalarsAfterAByteOrderMark() throws {
        let tokens = try lex("\u{FEFF}é.com {\n\tpath\n}")
        #expect(tokens[0].location == SourceLocation(file: "Caddyfile", line: 1, column: 1))
        #expect(tokens[1].location.column == 7)
        #expect(tokens[2].location == SourceLocation(file: "Caddyfile", line: 2, column: 2))
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let source = SourceText(file: "x", bytes: [0x61, 0xFF, 0x62, 0x20, 0x63])
        let tokens = try Lexer.tokenize(source, environment: [:])
        #expect(tokens.map(\.text) == ["a\u{FFFD}b", "c"])
    }

    @Test func quoteKindIsRecorded() throws {
        let tokens = try lex("a \"b\" `c` <<M\nd\nM")
        #expect(tokens.map(\.quote) == [.none, .double, .backtick, .heredoc(marker: "M")])
    }
}
