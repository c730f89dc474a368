/// The built-in task: small arithmetic questions with an SFT set and a preference set that partly disagree,
/// generated from a seed (no files). All text is lowercase ASCII, at most 64 bytes with the default template.
///
/// - SFT: "what is 3 plus 4?" → "it is 7." (answer last).
/// - Preference: on the same family of questions, "7 it is." (answer first, correct) is chosen, and the
///   rejected reply is either the SFT style with the correct answer ("it is 7.", *style conflict*) or the
///   preferred style with a wrong answer ("9 it is.", *agreement*: both objectives want the right number).
///   A share of the preference prompts are worded exactly as the SFT ones; the rest say "what's" for "what is".
///
/// Why it shows forgetting: SFT raises p("it is 7."), which is the rejected reply of the conflict pairs, so the
/// DPO loss rises; DPO pushes that same reply down, so the SFT loss rises. Chosen and rejected have the same
/// bytes in another order and the same length, so the reference model's log-ratio starts near 0 and cannot hide
/// the effect. The conflict is partial: the number is learned by both, and a model can tell the two wordings
/// apart, so a joint optimum that is good on both exists (only the identically worded prompts force a trade).
public struct DemoTask: Sendable {
    public enum Operation: String, CaseIterable, Sendable {
        case plus, minus, times
    }

    public let seed: UInt64
    /// Share of preference prompts worded exactly like the SFT prompts ("what is"); the rest say "what's".
    public let sharedPromptFraction: Double
    /// Share of preference pairs whose rejected reply is the SFT reply; the rest reject a wrong answer.
    public let styleConflictFraction: Double

    public init(seed: UInt64 = 0, sharedPromptFraction: Double = 0.25, styleConflictFraction: Double = 0.5) throws {
        for (option, value) in [("sharedPromptFraction", sharedPromptFraction),
                                ("styleConflictFraction", styleConflictFraction)]
        where !(0...1).contains(value) {
            throw DataOptionError(option: option, "expected a fraction in [0, 1], found \(value)")
        }
        self.seed = seed
        self.sharedPromptFraction = sharedPromptFraction
        self.styleConflictFraction = styleConflictFraction
    }

    /// The SFT reply style: the answer last.
    public static func sftReply(_ answer: Int) -> String { "it is \(answer)." }
    /// The preferred reply style: the answer first; same bytes and length as `sftReply` for the same answer.
    public static func preferredReply(_ answer: Int) -> String { "\(answer) it is." }

    public func sftExamples(count: Int) -> [SFTExample] {
        var generator = SplitMix64(seed: SplitMix64.mix(seed ^ 0x5F7_0001))
        return (0..<count).map { index in
            let question = Question.random(using: &generator)
            return SFTExample(prompt: question.text(contracted: false), response: Self.sftReply(question.answer),
                              source: RecordLocation(file: "demo:sft", line: index + 1, recordIndex: index))
        }
    }

    public func preferencePairs(count: Int) -> [PreferencePair] {
        var generator = SplitMix64(seed: SplitMix64.mix(seed ^ 0xD90_0002))
        return (0..<count).map { index in
            let question = Question.random(using: &generator)
            let contracted = Double.random(in: 0..<1, using: &generator) >= sharedPromptFraction
            let conflict = Double.random(in: 0..<1, using: &generator) < styleConflictFraction
            let rejected = conflict
                ? Self.sftReply(question.answer)
                : Self.preferredReply(question.wrongAnswer(using: &generator))
            return PreferencePair(prompt: question.text(contracted: contracted),
                                  chosen: Self.preferredReply(question.answer), rejected: rejected,
                                  source: RecordLocation(file: "demo:preference", line: index + 1, recordIndex: index))
        }
    }

    /// "a op b" with single digits; minus only when a ≥ b, so answers are 0...81.
    struct Question {
        let left: Int
        let operation: Operation
        let right: Int

        static func random(using generator: inout SplitMix64) -> Question {
            let operation = Operation.allCases.randomElement(using: &generator)!
            var left = Int.random(in: 0...9, using: &generator)
            var right = Int.random(in: 0...9, using: &generator)
            if operation == .minus && left < right { swap(&left, &right) }
            return Question(left: left, operation: operation, right: right)
        }

        var answer: Int {
            switch operation {
            case .plus: return left + right
            case .minus: return left - right
            case .times: return left * right
            }
        }

        /// A nearby wrong number (off by 1 or 2), never negative.
        func wrongAnswer(using generator: inout SplitMix64) -> Int {
            let offset = [-2, -1, 1, 2].randomElement(using: &generator)!
            return answer + offset >= 0 ? answer + offset : answer - offset
        }

        func text(contracted: Bool) -> String {
            "\(contracted ? "what's" : "what is") \(left) \(operation.rawValue) \(right)?"
        }
    }
}
