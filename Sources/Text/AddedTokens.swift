/// A token matched in the text before BPE runs (`added_tokens` of `tokenizer.json`).
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Special tokens (`<|endoftext|>`) are matched in the raw text and are the ones a caller may skip.
    public var special: Bool
    /// Only match when no word character (`\w`) touches either end.
    public var singleWord: Bool
    /// Swallow the whitespace before / after the match.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Match in the normalized text (true) or in the raw text (false).
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool, singleWord: Bool = false, lstrip: Bool = false,
                rstrip: Bool = false, normalized: Bool? = nil) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized ?? !special
    }
}

/// Finds added tokens in UTF-8 text the way `tokenizers` does (an Aho-Corasick automaton in leftmost-longest
/// mode): scanning left to right, the match that starts first wins, and among those the longest; scanning
/// resumes after it. A match rejected by `single_word` still consumes its bytes, as it does there.
struct AddedTokenMatcher: Sendable {
    /// A byte trie: `edges[firstEdge[n] ..< firstEdge[n] + edgeCount[n]]` are node n's children.
    private var edgeByte: [UInt8] = []
    private var edgeTarget: [Int32] = []
    private var firstEdge: [Int32] = []
    private var edgeCount: [Int32] = []
    /// Index into `patterns` of the pattern ending at each node, or -1.
    private var terminal: [Int32] = []
    /// Bytes that can start a match: a quick filter before walking the trie.
    private var startsMatch = [Bool](repeating: false, count: 256)
    private var patterns: [AddedToken] = []

    var isEmpty: Bool { patterns.isEmpty }

    /// `tokens` with their match text (the content, normalized for tokens matched in normalized text).
    init(_ tokens: [(token: AddedToken, matchText: [UInt8])]) {
        // Build with per-node dictionaries, then flatten into arrays for the scan.
        var children: [[UInt8: Int32]] = [[:]]
        var ends: [Int32] = [-1]
        for (token, text) in tokens where !text.isEmpty {
            var node = 0
            for byte in text {
                if let next = children[node][byte] {
                    node = Int(next)
                } else {
                    children.append([:])
                    ends.append(-1)
                    children[node][byte] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            // The first of two identical patterns wins, as with an automaton built from the list in order.
            if ends[node] < 0 {
                ends[node] = Int32(patterns.count)
                patterns.append(token)
            }
            startsMatch[Int(text[0])] = true
        }
        terminal = ends
        for node in children.indices {
            firstEdge.append(Int32(edgeByte.count))
            edgeCount.append(Int32(children[node].count))
            for (byte, target) in children[node].sorted(by: { $0.key < $1.key }) {
                edgeByte.append(byte)
                edgeTarget.append(target)
            }
        }
    }

    /// Longest pattern starting at `start`: (pattern index, end) or nil.
    @inline(__always)
    private func longestMatch(in text: UnsafeBufferPointer<UInt8>, at start: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)? = nil
        var i = start
        while i < text.count {
            let byte = text[i]
            let first = Int(firstEdge[node])
            let end = first + Int(edgeCount[node])
            var next = -1
            var e = first
            while e < end {
                if edgeByte[e] == byte { next = Int(edgeTarget[e]); break }
                e += 1
            }
            if next < 0 { break }
            node = next
            i += 1
            if terminal[node] >= 0 { best = (Int(terminal[node]), i) }
        }
        return best
    }

    /// Splits `text` into stretches: `body(start, end, id)` with the id of a matched token, or -1 for text
    /// between matches. An empty text gives no stretch.
    @inline(__always)
    func split(_ text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int, Int) -> Void) {
        let count = text.count
        if patterns.isEmpty {
            if count > 0 { body(0, count, -1) }
            return
        }
        var emitted = 0
        var i = 0
        while i < count {
            guard startsMatch[Int(text[i])], let (index, matchEnd) = longestMatch(in: text, at: i) else {
                i += 1
                continue
            }
            let token = patterns[index]
            var start = i
            var stop = matchEnd
            i = matchEnd
            // After an rstrip token swallowed whitespace, a match inside that whitespace has nothing left.
            if start < emitted { continue }
            if token.singleWord,
               Self.wordCharacterEnds(text, before: start) || Self.wordCharacterStarts(text, at: stop) {
                continue
            }
            if token.lstrip { start = max(Self.whitespaceStart(text, before: start), emitted) }
            if token.rstrip { stop = Self.whitespaceEnd(text, from: stop) }
            if emitted < start { body(emitted, start, -1) }
            body(start, stop, token.id)
            emitted = stop
        }
        if emitted < count { body(emitted, count, -1) }
    }

    // MARK: Character tests around a match (the text is valid UTF-8)

    static func scalar(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int) {
        var iterator = UnsafeBufferPointer(rebasing: text[i...]).makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let s) = decoder.decode(&iterator) { return (s, UTF8.width(s)) }
        return ("\u{FFFD}", 1)
    }

    static func scalarStart(_ text: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var j = i - 1
        while j > 0, text[j] & 0xC0 == 0x80 { j -= 1 }
        return j
    }

    static func wordCharacterEnds(_ text: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        guard i > 0 else { return false }
        return SplitCharacterClass.isWordCharacter(scalar(text, at: scalarStart(text, before: i)).0)
    }

    static func wordCharacterStarts(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i < text.count else { return false }
        return SplitCharacterClass.isWordCharacter(scalar(text, at: i).0)
    }

    static func whitespaceStart(_ text: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var start = i
        while start > 0 {
            let previous = scalarStart(text, before: start)
            guard scalar(text, at: previous).0.properties.isWhitespace else { break }
            start = previous
        }
        return start
    }

    static func whitespaceEnd(_ text: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var end = i
        while end < text.count {
            let (s, width) = scalar(text, at: end)
            guard s.properties.isWhitespace else { break }
            end += width
        }
        return end
    }
}
