/// How a prompt is presented to the model: a text with one `{prompt}` placeholder.
///
/// The default, `xright`, is the paper's `"User: {prompt}\nAssistant: "`. Multi-turn data renders each earlier
/// user message through the same template and appends each earlier assistant reply followed by "\n" (nothing
/// when the template itself starts with "\n", as `hh` does); a system message comes first, followed by "\n".
/// The response is appended after the rendered prompt as is.
public struct PromptTemplate: Hashable, Sendable, CustomStringConvertible {
    /// The paper's template (XRIGHT scripts): `User: {prompt}\nAssistant: `.
    public static let xright = PromptTemplate(uncheckedFormat: "User: {prompt}\nAssistant: ", name: "xright")
    /// The prompt verbatim; earlier turns, if any, are joined with "\n".
    public static let raw = PromptTemplate(uncheckedFormat: "{prompt}", name: "raw")
    /// Stanford Alpaca's instruction template (the variant without a separate input section).
    public static let alpaca = PromptTemplate(
        uncheckedFormat: "Below is an instruction that describes a task. Write a response that appropriately "
            + "completes the request.\n\n### Instruction:\n{prompt}\n\n### Response:\n",
        name: "alpaca")
    /// Anthropic HH transcripts: renders HH records back to their original text.
    public static let hh = PromptTemplate(uncheckedFormat: "\n\nHuman: {prompt}\n\nAssistant: ", name: "hh")

    public static let named: [PromptTemplate] = [.xright, .raw, .alpaca, .hh]
    static let placeholder = "{prompt}"

    /// The template text, with its placeholder.
    public let format: String
    /// The built-in name, or nil for a custom template.
    public let name: String?
    private let prefix: String
    private let suffix: String

    private init(uncheckedFormat format: String, name: String?) {
        self.format = format
        self.name = name
        let parts = format.components(separatedBy: Self.placeholder)
        prefix = parts[0]
        suffix = parts[1]
    }

    /// A custom template; `format` must contain `{prompt}` exactly once.
    public init(format: String) throws {
        let count = format.components(separatedBy: Self.placeholder).count - 1
        guard count == 1 else {
            throw DataOptionError(option: "--template", count == 0
                ? "a custom template must contain {prompt} where the prompt goes, e.g. \"Q: {prompt}\\nA: \""
                : "the template contains {prompt} \(count) times; it must appear exactly once")
        }
        self.init(uncheckedFormat: format, name: nil)
    }

    /// A built-in name (`xright`, `raw`, `alpaca`, `hh`) or a custom template in which the escapes `\n`, `\t`
    /// and `\\` stand for a line break, a tab and a backslash (so it can be typed in a shell).
    public init(parsing specification: String) throws {
        if let builtIn = Self.named.first(where: { $0.name == specification }) {
            self = builtIn
            return
        }
        guard specification.contains(Self.placeholder) else {
            throw DataOptionError(option: "--template",
                                  "\"\(specification)\" is neither a template name ("
                                  + Self.named.compactMap(\.name).joined(separator: ", ")
                                  + ") nor a custom template containing {prompt}")
        }
        try self.init(format: Self.unescape(specification))
    }

    public var description: String { name ?? format }

    /// The prompt placed in the template.
    public func apply(to prompt: String) -> String { prefix + prompt + suffix }

    /// The full prompt text the model sees: earlier turns, then the final prompt in the template.
    public func render(prompt: String, context: [Turn]) -> String {
        if context.isEmpty { return apply(to: prompt) }
        let replyEnd = prefix.hasPrefix("\n") ? "" : "\n"
        // A template with nothing after the prompt (raw) needs a break between a user turn and its reply.
        let userEnd = suffix.isEmpty ? "\n" : suffix
        var text = ""
        for turn in context {
            switch turn.role {
            case .system: text += turn.text + "\n"
            case .user: text += prefix + turn.text + userEnd
            case .assistant: text += turn.text + replyEnd
            }
        }
        return text + apply(to: prompt)
    }

    public func render(_ example: SFTExample) -> String { render(prompt: example.prompt, context: example.context) }

    public func render(_ pair: PreferencePair) -> String { render(prompt: pair.prompt, context: pair.context) }

    private static func unescape(_ text: String) -> String {
        var result = ""
        var escaping = false
        for character in text {
            if escaping {
                switch character {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\\": result.append("\\")
                default: result.append("\\"); result.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        if escaping { result.append("\\") }
        return result
    }
}
