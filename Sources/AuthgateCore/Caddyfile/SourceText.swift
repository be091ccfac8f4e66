/// The text of one input file as Unicode scalars, with a table of where each physical
/// line starts so an offset turns into `line:col` without rescanning.
struct SourceText: Sendable {
    let file: String
    /// The file's scalars, with a leading byte order mark removed.
    let scalars: [Unicode.Scalar]
    private let lineStarts: [Int]

    init(file: String, text: String) {
        self.file = file
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        self.scalars = scalars
        var starts = [0]
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" {
            starts.append(offset + 1)
        }
        self.lineStarts = starts
    }

    /// Decodes bytes as UTF-8; invalid sequences become U+FFFD, as Go's reader does.
    init(file: String, bytes: [UInt8]) {
        self.init(file: file, text: String(decoding: bytes, as: UTF8.self))
    }

    /// Where bytes stop being valid UTF-8, if they do: the line and column (in
    /// characters) of the first invalid byte.
    static func firstInvalidUTF8(in bytes: [UInt8], file: String) -> SourceLocation? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        var column = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput:
                return nil
            case .error:
                return SourceLocation(file: file, line: line, column: column)
            }
        }
    }

    func location(ofOffset offset: Int) -> SourceLocation {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return SourceLocation(file: file, line: low + 1, column: offset - lineStarts[low] + 1)
    }
}
