import Foundation

/// "eval: mc 120/1000" lines on stderr while a long evaluation runs, at most one a second; nothing for one that
/// finishes quickly.
final class EvalProgress {
    private let start = Date()
    private var last = Date()
    private let quiet: Bool

    init(quiet: Bool = false) { self.quiet = quiet }

    func report(_ what: String, done: Int, of total: Int) {
        let now = Date()
        guard !quiet, now.timeIntervalSince(last) >= 1, done < total else { return }
        last = now
        printErr("eval: \(what) \(done)/\(total) (\(Int(now.timeIntervalSince(start))) s)")
    }

    var seconds: Double { Date().timeIntervalSince(start) }
}

/// JSON for scripts: snake_case keys, sorted; a non-finite figure is written as the run log writes it ("NaN").
enum EvalJSON {
    static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
