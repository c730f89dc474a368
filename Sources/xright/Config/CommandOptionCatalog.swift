import ArgumentParser
import ConfigFile
import Foundation

/// The options a subcommand declares, read from the argument parser itself (its `--experimental-dump-help`
/// description: names, flags, defaults, allowed values) and from the option properties' Swift types (integer,
/// number, string), so a config file's keys follow the commands as they change, with no list to keep in step.
enum CommandOptionCatalog {
    /// Keys a config file may not hold: these act on the command line itself.
    static let commandLineOnly: Set<String> = ["help", "version", "config", "print-config", "experimental-dump-help",
                                               "generate-completion-script", "like"]

    static func options(of command: ParsableCommand.Type, path: [String]) -> [ConfigOption] {
        let arguments = dumpedArguments(path: path)
        let types = valueTypes(of: command)
        let flagNames = Set(arguments.filter { $0.kind == "flag" }.compactMap(\.longName))
        var options = [ConfigOption]()
        for argument in arguments where argument.kind != "positional" {
            guard let name = argument.longName, !commandLineOnly.contains(name) else { continue }
            let otherNames = (argument.names ?? []).filter { $0.name != name }.map { $0.kind == "short" ? "-" + $0.name : "--" + $0.name }
            if argument.kind == "flag" {
                // `--no-x` beside `--x` is x's off switch, not a key of its own.
                if name.hasPrefix("no-"), flagNames.contains(String(name.dropFirst(3))) { continue }
                let inversion = flagNames.contains("no-" + name) ? "no-" + name : nil
                // A flag with an inversion reports its default as the spelling that is in effect (`--no-cosine`).
                var defaultValue = argument.defaultValue
                if let spelled = defaultValue, spelled.hasPrefix("--") { defaultValue = spelled == "--" + name ? "true" : "false" }
                options.append(ConfigOption(name: name, kind: .flag(inversion: inversion), valueType: .boolean,
                                            defaultValue: defaultValue, otherNames: otherNames))
            } else {
                let valueType: ConfigValueType
                if let values = argument.allValues, !values.isEmpty {
                    valueType = .choice(values)
                } else {
                    valueType = types[name].map(configValueType) ?? .string
                }
                options.append(ConfigOption(name: name, kind: .option, valueType: valueType, isRepeating: argument.isRepeating,
                                            defaultValue: argument.defaultValue, otherNames: otherNames))
            }
        }
        return options
    }

    // MARK: The parser's own description

    struct DumpedTool: Decodable { var command: DumpedCommand }
    struct DumpedCommand: Decodable { var arguments: [DumpedArgument]? }
    struct DumpedName: Decodable { var kind: String; var name: String }
    struct DumpedArgument: Decodable {
        var kind: String
        var names: [DumpedName]?
        var preferredName: DumpedName?
        var defaultValue: String?
        var allValues: [String]?
        var isRepeating: Bool

        var longName: String? {
            if let preferredName, preferredName.kind == "long" { return preferredName.name }
            return names?.first { $0.kind == "long" }?.name
        }
    }

    static func dumpedArguments(path: [String]) -> [DumpedArgument] {
        do {
            _ = try XRight.parseAsRoot(path + ["--experimental-dump-help"])
        } catch {
            let json = XRight.fullMessage(for: error)
            if let tool = try? JSONDecoder().decode(DumpedTool.self, from: Data(json.utf8)) {
                return tool.command.arguments ?? []
            }
        }
        return []
    }

    // MARK: Swift types of the option properties

    /// `--name` → the Swift type its property holds (`Int?`, `Double`, `[String]`), through the command's groups.
    static func valueTypes(of type: ParsableArguments.Type) -> [String: Any.Type] {
        var types = [String: Any.Type]()
        for child in Mirror(reflecting: type.init()).children {
            guard var label = child.label else { continue }
            if label.hasPrefix("_") { label.removeFirst() }
            if let group = child.value as? ArgumentGroupProperty {
                types.merge(valueTypes(of: group.groupType)) { first, _ in first }
            } else if let option = child.value as? TypedArgumentProperty {
                types[kebabCased(label)] = option.valueType
            }
        }
        return types
    }

    static func configValueType(_ type: Any.Type) -> ConfigValueType {
        var base = type
        while let wrapper = base as? WrappingType.Type { base = wrapper.wrappedType }
        if base is any BinaryInteger.Type { return .integer }
        if base is any BinaryFloatingPoint.Type { return .number }
        if base == Bool.self { return .boolean }
        return .string
    }

    /// The argument parser's default long name for a property: `maxSteps` → `max-steps`, `noGPU` → `no-gpu`.
    static func kebabCased(_ label: String) -> String {
        let characters = Array(label)
        var result = ""
        for (i, character) in characters.enumerated() {
            if character.isUppercase && i > 0 {
                let previous = characters[i - 1]
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { result += "-" }
            }
            result += character.lowercased()
        }
        return result
    }
}

/// `@Option` and `@Flag` properties tell their value type; `@OptionGroup` its group type.
protocol TypedArgumentProperty { var valueType: Any.Type { get } }
protocol ArgumentGroupProperty { var groupType: ParsableArguments.Type { get } }

extension Option: TypedArgumentProperty { var valueType: Any.Type { Value.self } }
extension Flag: TypedArgumentProperty { var valueType: Any.Type { Value.self } }
extension OptionGroup: ArgumentGroupProperty { var groupType: ParsableArguments.Type { Value.self } }

/// `Int?` and `[Int]` hold integers: the config file's type is the element's.
protocol WrappingType { static var wrappedType: Any.Type { get } }
extension Optional: WrappingType { static var wrappedType: Any.Type { Wrapped.self } }
extension Array: WrappingType { static var wrappedType: Any.Type { Element.self } }
