import Foundation

/// The Unicode normalization forms a `tokenizer.json` normalizer may ask for.
public enum UnicodeNormalizationForm: String, Sendable {
    case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD"
}

/// Applies a sequence of normalization forms to UTF-8 text, touching only the stretches that can change.
///
/// Every ASCII character starts a normalization segment (it has canonical combining class 0 and never
/// combines with what precedes it), so text splits before each ASCII character into segments that normalize
/// independently. A segment needs work only if it holds a character that a form can change: for NFC any
/// scalar at or above U+0300 (no character below it decomposes, recomposes or reorders), for the other forms
/// any non-ASCII scalar. Only those segments go through Foundation.
struct UnicodeNormalizer: Sendable {
    let forms: [UnicodeNormalizationForm]

    var isIdentity: Bool { forms.isEmpty }

    /// The normalized text, or nil when `text` is already normalized (the common case; nothing is copied).
    func normalize(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var current: [UInt8]? = nil
        for form in forms {
            let next: [UInt8]?
            if let c = current {
                next = c.withUnsafeBufferPointer { Self.apply(form, to: $0) }
            } else {
                next = Self.apply(form, to: text)
            }
            if let next { current = next }
        }
        return current
    }

    /// Lowest lead byte of a character the form can change: 0xCC starts U+0300 for NFC, 0x80 is any non-ASCII.
    static func firstSensitiveLead(_ form: UnicodeNormalizationForm) -> UInt8 {
        form == .nfc ? 0xCC : 0x80
    }

    static func apply(_ form: UnicodeNormalizationForm, to text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let threshold = firstSensitiveLead(form)
        let count = text.count
        var output: [UInt8]? = nil
        var copied = 0          // text[..<copied] is already in `output`
        var segmentStart = 0    // start of the segment holding position i
        var i = 0
        while i < count {
            let byte = text[i]
            if byte < 0x80 {
                segmentStart = i
                i += 1
                continue
            }
            if byte < threshold {
                i += 1
                continue
            }
            var end = i + 1
            while end < count, text[end] >= 0x80 { end += 1 }
            let segment = UnsafeBufferPointer(rebasing: text[segmentStart..<end])
            let normalized = normalizeSegment(segment, form)
            if !normalized.elementsEqual(segment) {
                if output == nil {
                    output = []
                    output!.reserveCapacity(count + 16)
                }
                output!.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<segmentStart]))
                output!.append(contentsOf: normalized)
                copied = end
            }
            i = end
            segmentStart = end
        }
        guard var result = output else { return nil }
        result.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<count]))
        return result
    }

    static func normalizeSegment(_ segment: UnsafeBufferPointer<UInt8>, _ form: UnicodeNormalizationForm) -> [UInt8] {
        let string = String(decoding: segment, as: UTF8.self)
        let normalized: String
        switch form {
        case .nfc: normalized = string.precomposedStringWithCanonicalMapping
        case .nfd: normalized = string.decomposedStringWithCanonicalMapping
        case .nfkc: normalized = string.precomposedStringWithCompatibilityMapping
        case .nfkd: normalized = string.decomposedStringWithCompatibilityMapping
        }
        return Array(normalized.utf8)
    }
}
