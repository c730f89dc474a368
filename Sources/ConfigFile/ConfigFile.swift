import Foundation
import Yams

/// A YAML file of a command's settings: one key per option, named as on the command line (`lambda: 0.5`,
/// `lora-rank: 32`, `headless: true`, `lora-targets: [query_key_value, dense]`). It becomes command-line arguments
/// placed before the command line's own, and keys the command line sets itself are left out, so the command line
/// wins. Every key is checked against the command's options before anything runs; `null` leaves an option unset.
public struct ConfigFile {
    /// One key of the file, turned into the arguments it stands for.
    public struct Setting: Equatable {
        public var option: ConfigOption
        /// As written (scalars' text); empty for `null`.
        public var values: [String]
        public var line: Int
    }

    public let path: String
    public let settings: [Setting]

    /// Reads and checks `path` against `options`; `forbidden` keys (`config` itself) are refused with `reason`.
    public init(path: String, options: [ConfigOption], forbidden: [String: String] = [:]) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(file: path, line: nil, key: nil, message: "cannot read the file (\(Self.reason(error)))")
        }
        try self.init(path: path, text: text, options: options, forbidden: forbidden)
    }

    /// Parses `text` as the content of `path` (which only names the file in errors).
    public init(path: String, text: String, options: [ConfigOption], forbidden: [String: String] = [:]) throws {
        self.path = path
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, path: path)
        } catch {
            throw ConfigFileError(file: path, line: nil, key: nil, message: "not YAML (\(error))")
        }
        guard let root else { settings = []; return }
        guard case .mapping(let mapping) = root else {
            throw ConfigFileError(file: path, line: root.mark?.line, key: nil,
                                  message: "expected a mapping of option names to values (`lambda: 0.5`), got \(Self.kindName(root))")
        }
        let byName = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = [String: Int]()
        var settings = [Setting]()
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard case .scalar(let keyScalar) = keyNode else {
                throw ConfigFileError(file: path, line: line, key: nil, message: "a key must be an option name, got \(Self.kindName(keyNode))")
            }
            let key = keyScalar.string
            if let earlier = seen[key] {
                throw ConfigFileError(file: path, line: line, key: key, message: "set twice (first on line \(earlier))")
            }
            seen[key] = line
            if let reason = forbidden[key] {
                throw ConfigFileError(file: path, line: line, key: key, message: reason)
            }
            guard let option = byName[key] else {
                throw ConfigFileError(file: path, line: line, key: key,
                                      message: "unknown key; this command's keys are: " + options.map(\.name).joined(separator: ", "))
            }
            settings.append(try Self.setting(option, valueNode, line: line, path: path))
        }
        self.settings = settings
    }

    /// The arguments the file stands for, leaving out options that `commandLine` sets itself.
    public func arguments(yieldingTo commandLine: [String]) -> [String] {
        let given = Set(commandLine.compactMap { token -> String? in
            guard token.hasPrefix("-") else { return nil }
            return token.split(separator: "=", maxSplits: 1).first.map(String.init)
        })
        var arguments = [String]()
        for setting in settings where !setting.option.commandLineNames.contains(where: given.contains) {
            arguments += Self.arguments(for: setting)
        }
        return arguments
    }

    /// The line of the key that set `--name` (any spelling), for pointing at the file when the command refuses it.
    public func line(ofOptionNamed name: String) -> (key: String, line: Int)? {
        settings.first { $0.option.commandLineNames.contains(name) }.map { ($0.option.name, $0.line) }
    }

    static func arguments(for setting: Setting) -> [String] {
        let option = setting.option
        switch option.kind {
        case .flag(let inversion):
            guard let text = setting.values.first, let on = ConfigBoolean(text)?.value else { return [] }
            if on { return ["--" + option.name] }
            // Off is the default of a flag without a twin; with one, `--no-name` says so explicitly.
            return inversion.map { ["--" + $0] } ?? []
        case .option:
            // `--name=value`: a value starting with '-' is still a value.
            return setting.values.map { "--\(option.name)=\($0)" }
        }
    }

    private static func setting(_ option: ConfigOption, _ node: Node, line: Int, path: String) throws -> Setting {
        func refuse(_ got: String) -> ConfigFileError {
            let expected = option.isRepeating ? "\(option.valueType) or a list of them" : option.valueType.description
            return ConfigFileError(file: path, line: node.mark?.line ?? line, key: option.name,
                                   message: "expected \(expected), got \(got)")
        }
        func scalarText(_ node: Node) throws -> String? {
            guard case .scalar(let scalar) = node else { throw refuse(kindName(node)) }
            if scalar.style == .plain && node.null != nil { return nil }
            guard option.valueType.accepts(scalar.string) else { throw refuse("'\(scalar.string)'") }
            if option.isFlag, ConfigBoolean(scalar.string) != nil, scalar.style != .plain {
                throw refuse("the string '\(scalar.string)' (write it without quotes)")
            }
            return scalar.string
        }
        switch node {
        case .sequence(let sequence) where option.isRepeating:
            var values = [String]()
            for element in sequence {
                guard let text = try scalarText(element) else { throw refuse("null in a list") }
                values.append(text)
            }
            return Setting(option: option, values: values, line: line)
        default:
            return Setting(option: option, values: try scalarText(node).map { [$0] } ?? [], line: line)
        }
    }

    static func kindName(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private static func syntaxError(_ error: YamlError, path: String) -> ConfigFileError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return ConfigFileError(file: path, line: mark.line, key: nil, message: "not valid YAML (\(detail))")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigFileError(file: path, line: context.mark.line, key: duplicates.first,
                                   message: "set twice")
        default:
            return ConfigFileError(file: path, line: nil, key: nil, message: "not valid YAML (\(error))")
        }
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.localizedDescription
    }
}
