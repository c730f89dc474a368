/// The four classes the GPT-2 split pattern distinguishes: `\p{L}`, `\p{N}`, `\s` and everything else.
public enum SplitCharacterClass: UInt8, Sendable {
    case other = 0
    case letter = 1
    case number = 2
    case whitespace = 3

    /// The class of `scalar` as the Oniguruma engine inside Hugging Face `tokenizers` sees it: `\s` is
    /// White_Space, `\p{L}` the L* general categories, `\p{N}` Nd/Nl/No, all at Unicode 16.0. Swift's tables may
    /// be newer, so characters assigned after 16.0 count as unassigned (class other), as they do there.
    public static func of(_ scalar: Unicode.Scalar) -> SplitCharacterClass {
        let v = scalar.value
        if v < 0x10000 { return ClassTable.basicPlane[Int(v)] }
        return computed(scalar)
    }

    static func computed(_ scalar: Unicode.Scalar) -> SplitCharacterClass {
        let properties = scalar.properties
        if let age = properties.age, age.major > 16 || (age.major == 16 && age.minor > 0) { return .other }
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Whether `scalar` is a word character for Rust's `regex` `\w` (Alphabetic, marks, decimal digits,
    /// connector punctuation, Join_Control): `single_word` added tokens must not touch one.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let p = scalar.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}

/// The basic multilingual plane classified once (64 KiB, kept for the life of the process); other planes are
/// rare enough to compute per use.
enum ClassTable {
    static let basicPlane: UnsafePointer<SplitCharacterClass> = {
        let table = UnsafeMutablePointer<SplitCharacterClass>.allocate(capacity: 0x10000)
        for v in 0..<0x10000 {
            table[v] = Unicode.Scalar(UInt32(v)).map(SplitCharacterClass.computed) ?? .other
        }
        return UnsafePointer(table)
    }()
}
