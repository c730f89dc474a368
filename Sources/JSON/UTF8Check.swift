/// Finds the first byte that breaks UTF-8 (RFC 3629; Table 3-7 of Unicode: no overlong forms, no surrogates,
/// nothing above U+10FFFF). Only run once a string is known to be bad, to say where and why.
enum UTF8Check {
    static func firstProblem(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int)
        -> (offset: Int, problem: JSONError.UTF8Problem)? {
        var index = start
        while index < end {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return (index, .cannotStart(lead))
            }
            for continuation in 1..<length {
                let at = index + continuation
                guard at < bytes.count else { return (at, .truncated(length: length)) }
                let range = continuation == 1 ? secondRange : 0x80...0xBF
                guard range.contains(bytes[at]) else {
                    return (at, .cannotFollow(bytes[at], lead: lead, length: length))
                }
            }
            index += length
        }
        return nil
    }
}
