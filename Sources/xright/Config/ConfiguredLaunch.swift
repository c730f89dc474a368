import ArgumentParser
import ConfigFile
import Foundation

/// Starts `xright` with `--config FILE` applied: the file's settings become arguments placed before the command
/// line's own (the command line wins), checked against the command's options first so that a bad key or value
/// is reported with the file's line; `--print-config` writes the resulting settings as YAML instead of running.
enum ConfiguredLaunch {
    /// The commands whose options a config file can hold.
    static let commands: [String: ParsableCommand.Type] = [
        "train": TrainCommand.self, "demo": DemoCommand.self, "sweep": SweepCommand.self,
        "optimum": OptimumCommand.self, "score": ScoreCommand.self, "generate": GenerateCommand.self,
        "eval": EvalCommand.self,
    ]

    static func main(_ commandLine: [String]) -> Never {
        guard let name = commandLine.first, let command = commands[name],
              commandLine.contains(where: { $0 == "--print-config" || $0 == "--config" || $0.hasPrefix("--config=")
                                            || $0 == "--like" || $0.hasPrefix("--like=") }) else {
            XRight.main(commandLine)
            XRight.exit()
        }
        let own = Array(commandLine.dropFirst())
        let options = CommandOptionCatalog.options(of: command, path: [name])
        var file: ConfigFile?
        do {
            if let path = configPath(in: own) {
                file = try ConfigFile(path: path, options: options, forbidden: [
                    "config": "a config file cannot name another one",
                    "print-config": "give --print-config on the command line",
                ])
            }
        } catch let error as ConfigFileError {
            fail("Error: \(error)")
        } catch {
            fail("Error: \(error)")
        }
        let fileArguments = file?.arguments(yieldingTo: own) ?? []
        // `train --like RUN_DIR`: the run's recorded options, a layer under the config file and the command line.
        var recorded: ConfigFile?
        if name == "train", let run = optionValue("--like", in: own) {
            do {
                recorded = try RecordedRunSettings.configFile(forRun: run, options: options, given: fileArguments + own)
            } catch {
                fail("Error: \(error)")
            }
        }
        let recordedArguments = recorded?.arguments(yieldingTo: fileArguments + own) ?? []
        let arguments = [name] + recordedArguments + fileArguments + own
        var parsed: ParsableCommand
        do {
            parsed = try XRight.parseAsRoot(arguments)
        } catch {
            explain(error, from: file)
        }
        if own.contains("--print-config") {
            let settings = EffectiveSettings(options: options, arguments: Array(arguments.dropFirst()))
            let layers = recorded == nil ? "command line over --config file over defaults"
                : "command line over --config file over the --like run's recorded options over defaults"
            do {
                print(try settings.yaml(header: "xright \(name): effective settings (\(layers))"),
                      terminator: "")
            } catch {
                fail("Error: cannot write the settings as YAML (\(error))")
            }
            XRight.exit()
        }
        do {
            try parsed.run()
        } catch {
            XRight.exit(withError: error)
        }
        XRight.exit()
    }

    /// `--config FILE` or `--config=FILE` (the last one given).
    static func configPath(in arguments: [String]) -> String? { optionValue("--config", in: arguments) }

    /// The value of `--name VALUE` or `--name=VALUE` (the last one given).
    static func optionValue(_ name: String, in arguments: [String]) -> String? {
        var value: String?
        for (i, token) in arguments.enumerated() {
            if token == "--" { break }
            if token == name, i + 1 < arguments.count { value = arguments[i + 1] }
            if token.hasPrefix(name + "=") { value = String(token.dropFirst(name.count + 1)) }
        }
        return value
    }

    /// The parser's own message, then, when an option it names came from the file, where in the file.
    private static func explain(_ error: Error, from file: ConfigFile?) -> Never {
        let code = XRight.exitCode(for: error)
        guard let file, code != .success else { XRight.exit(withError: error) }
        let message = XRight.fullMessage(for: error)
        let named = message.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") })
            .map(String.init).filter { $0.hasPrefix("--") }
        var text = message
        if let origin = named.lazy.compactMap({ file.line(ofOptionNamed: $0) }).first {
            text += "\n(\(file.path):\(origin.line): set by key '\(origin.key)')"
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        exit(code.rawValue)
    }

    private static func fail(_ text: String) -> Never {
        FileHandle.standardError.write(Data((text + "\n").utf8))
        exit(ExitCode.validationFailure.rawValue)
    }
}
