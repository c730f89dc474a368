import ArgumentParser

/// `--config FILE` and `--print-config`, on every command whose options a YAML file can hold. Both are acted on
/// before the command parses (`ConfiguredLaunch`); they are declared here so that `--help` and the shell
/// completions know them.
struct ConfigFileArguments: ParsableArguments {
    @Option(help: ArgumentHelp("YAML file of settings: one key per option, named as on the command line (lambda: 0.5, lora-rank: 32, headless: true). Options given on the command line win.",
                               valueName: "file"),
            completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Flag(help: "Print the effective settings (command line over --config file over defaults) as YAML and exit.")
    var printConfig = false
}
