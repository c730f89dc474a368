/// One option a command declares, as its command line knows it: what a config file's key of the same name maps to.
public struct ConfigOption: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// `--name VALUE`.
        case option
        /// `--name` alone; `inversion` is its `--no-name` twin, when the command declares one.
        case flag(inversion: String?)
    }

    /// The long name without dashes (`lora-rank`): the config file's key.
    public var name: String
    public var kind: Kind
    public var valueType: ConfigValueType
    /// Taken more than once (`--lora-targets a --lora-targets b`): the key takes a list.
    public var isRepeating: Bool
    /// The command's default as its `--help` prints it; nil when the option is unset by default.
    public var defaultValue: String?
    /// Every other spelling on the command line (`-o`, `--no-name`), so a command line that sets the option is seen.
    public var otherNames: [String]

    public init(name: String, kind: Kind, valueType: ConfigValueType, isRepeating: Bool = false,
                defaultValue: String? = nil, otherNames: [String] = []) {
        self.name = name
        self.kind = kind
        self.valueType = valueType
        self.isRepeating = isRepeating
        self.defaultValue = defaultValue
        self.otherNames = otherNames
    }

    var isFlag: Bool { if case .flag = kind { return true } else { return false } }

    /// Every command-line spelling of this option (`--lora-rank`, `--no-cosine`, `-o`).
    var commandLineNames: [String] {
        var names = ["--" + name] + otherNames
        if case .flag(let inversion?) = kind { names.append("--" + inversion) }
        return names
    }
}

/// What a key's value must be; named in errors as "expected <description>".
public enum ConfigValueType: Equatable, Sendable, CustomStringConvertible {
    case integer
    case number
    case boolean
    case string
    case choice([String])

    public var description: String {
        switch self {
        case .integer: return "an integer"
        case .number: return "a number"
        case .boolean: return "true or false"
        case .string: return "a string"
        case .choice(let values): return "one of " + values.joined(separator: ", ")
        }
    }

    /// Whether a scalar's text is a value of this type. Strings take any scalar: `run-dir: 2026` is a name.
    func accepts(_ text: String) -> Bool {
        switch self {
        case .integer: return Int(text) != nil
        case .number: return Double(text).map(\.isFinite) ?? false
        case .boolean: return ConfigBoolean(text) != nil
        case .string: return true
        case .choice(let values): return values.contains(text)
        }
    }
}

/// YAML's booleans as people write them in config files.
enum ConfigBoolean {

    init?(_ text: String) {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "on", "On": self = .yes
        case "false", "False", "FALSE", "no", "No", "off", "Off": self = .no
        default: return nil
        }
    }

    case yes, no

    var value: Bool { self == .yes }
}
