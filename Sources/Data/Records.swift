/// One message of a conversation that precedes the prompt (multi-turn data).
public struct Turn: Hashable, Sendable, Codable {
    public enum Role: String, Hashable, Sendable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var text: String

    public init(_ role: Role, _ text: String) {
        self.role = role
        self.text = text
    }
}

/// An instruction-following example: the model learns to produce `response` after the templated `prompt`.
///
/// `prompt` is the last user message, untemplated; `context` holds the messages before it (a system message,
/// earlier user/assistant exchanges), empty for single-turn data. The prompt format (`PromptFormat`) joins them.
public struct SFTExample: Hashable, Sendable {
    public var prompt: String
    public var response: String
    public var context: [Turn]
    public var source: RecordLocation

    public init(prompt: String, response: String, context: [Turn] = [], source: RecordLocation) {
        self.prompt = prompt
        self.response = response
        self.context = context
        self.source = source
    }
}

/// A preference: after the same prompt (and context), `chosen` is preferred over `rejected`.
public struct PreferencePair: Hashable, Sendable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var context: [Turn]
    public var source: RecordLocation

    public init(prompt: String, chosen: String, rejected: String, context: [Turn] = [], source: RecordLocation) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.context = context
        self.source = source
    }
}

/// What a data file holds: instruction examples (SFT) or preference pairs (DPO).
public enum DatasetKind: String, CaseIterable, Codable, Sendable {
    case sft
    case preference

    /// How the kind is named in messages.
    public var displayName: String { self == .sft ? "SFT examples" : "preference pairs" }
}

/// One usable record of either kind, as produced by `DatasetReader`.
public enum DataRecord: Hashable, Sendable {
    case sft(SFTExample)
    case preference(PreferencePair)

    public var source: RecordLocation {
        switch self {
        case .sft(let example): return example.source
        case .preference(let pair): return pair.source
        }
    }
}
