import Foundation

/// A single status line on stderr, rewritten in place on a terminal, one line per update otherwise.
final class ProgressLine {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastLength = 0

    func update(_ text: String) {
        if isTerminal {
            let pad = max(0, lastLength - text.count)
            FileHandle.standardError.write(Data(("\r" + text + String(repeating: " ", count: pad)).utf8))
            lastLength = text.count
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    func finish() {
        if isTerminal && lastLength > 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        lastLength = 0
    }
}

enum JSONOutput {
    static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
