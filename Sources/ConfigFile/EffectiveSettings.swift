import Yams

/// The settings a command line arrives at, option by option: the last value given (a list option: every value),
/// else the command's default, else unset. `xright train --print-config` writes them back as a config file.
public struct EffectiveSettings {
    public struct Entry: Equatable {
        public var option: ConfigOption
        /// Empty: unset (an optional option nobody gave).
        public var values: [String]
    }

    public let entries: [Entry]

    /// `arguments` are the command's own (after the subcommand's name), config-file arguments included.
    public init(options: [ConfigOption], arguments: [String]) {
        var given = [String: [String]]()
        var index = 0
        func record(_ option: ConfigOption, _ value: String) {
            if option.isRepeating { given[option.name, default: []].append(value) } else { given[option.name] = [value] }
        }
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            if token == "--" { break }
            let parts = token.split(separator: "=", maxSplits: 1).map(String.init)
            guard let spelling = parts.first, spelling.hasPrefix("-"),
                  let option = options.first(where: { $0.commandLineNames.contains(spelling) }) else { continue }
            switch option.kind {
            case .flag(let inversion):
                given[option.name] = [spelling == inversion.map { "--" + $0 } ? "false" : "true"]
            case .option:
                if parts.count == 2 {
                    record(option, parts[1])
                } else {
                    // A list option with `.upToNextOption` takes every value up to the next option.
                    repeat {
                        guard index < arguments.count else { break }
                        record(option, arguments[index])
                        index += 1
                    } while option.isRepeating && index < arguments.count && !arguments[index].hasPrefix("-")
                }
            }
        }
        entries = options.map { option in
            if let values = given[option.name] { return Entry(option: option, values: values) }
            if option.isFlag { return Entry(option: option, values: [option.defaultValue ?? "false"]) }
            return Entry(option: option, values: option.defaultValue.map { [$0] } ?? [])
        }
    }

    /// A YAML mapping in the command's option order that `--config` reads back to the same settings.
    public func yaml(header: String) throws -> String {
        var pairs = [(Node, Node)]()
        for entry in entries {
            let value: Node
            if entry.values.isEmpty {
                value = Node("null", .implicit, .plain)
            } else if entry.option.isRepeating {
                value = Node(entry.values.map { scalar($0, entry.option) }, .implicit, .flow)
            } else {
                value = scalar(entry.values[0], entry.option)
            }
            pairs.append((Node(entry.option.name), value))
        }
        return "# \(header)\n" + (try Yams.serialize(node: Node(pairs), sortKeys: false))
    }

    private func scalar(_ text: String, _ option: ConfigOption) -> Node {
        switch option.valueType {
        case .integer, .number, .boolean: return Node(text, .implicit, .plain)
        case .string, .choice: return Node(text, .implicit, .singleQuoted)
        }
    }
}
