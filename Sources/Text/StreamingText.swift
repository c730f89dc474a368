/// Turns generated token ids into text as they arrive, for printing while a model generates. A byte-level token
/// can end in the middle of a UTF-8 character; such a tail is held back until the character completes, so what
/// is emitted never contains a split character (a U+FFFD the full decode would not have). Text that could be
/// the start of a stop string is held back too, and a stop string ends the reply without being emitted.
public struct StreamingText {
    public let tokenizer: any Tokenizer
    public let stopStrings: [String]
    public private(set) var ids: [Int] = []
    /// The reply so far as emitted (without any stop string).
    public private(set) var emitted = ""
    /// Whether a stop string has appeared.
    public private(set) var stopped = false

    public init(tokenizer: any Tokenizer, stopStrings: [String] = []) {
        self.tokenizer = tokenizer
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
    }

    /// Adds a token; returns the text that is now safe to print (possibly empty).
    public mutating func append(_ id: Int) -> String {
        precondition(!stopped, "append after a stop string")
        ids.append(id)
        var text = tokenizer.decode(ids)
        // An incomplete character at the end decodes to U+FFFD; wait for the bytes that complete it.
        if text.hasSuffix("\u{FFFD}") { return "" }
        for stop in stopStrings {
            if let range = text.range(of: stop) {
                text = String(text[..<range.lowerBound])
                stopped = true
            }
        }
        var ready = text
        if !stopped {
            // Hold back a tail that a stop string could still begin with.
            for stop in stopStrings {
                for length in stride(from: min(stop.count - 1, ready.count), to: 0, by: -1)
                where ready.hasSuffix(stop.prefix(length)) {
                    ready = String(ready.dropLast(length))
                    break
                }
            }
        }
        guard ready.utf8.count > emitted.utf8.count, ready.hasPrefix(emitted) else { return "" }
        let fresh = String(ready.utf8.dropFirst(emitted.utf8.count))!
        emitted = ready
        return fresh
    }

    /// What is still held back once generation ends (a partial stop string that never completed, or bytes of
    /// an incomplete character, as the tokenizer decodes them).
    public mutating func finish() -> String {
        guard !stopped else { return "" }
        let text = tokenizer.decode(ids)
        guard text.utf8.count > emitted.utf8.count, text.hasPrefix(emitted) else { return "" }
        let fresh = String(text.utf8.dropFirst(emitted.utf8.count))!
        emitted = text
        return fresh
    }
}
