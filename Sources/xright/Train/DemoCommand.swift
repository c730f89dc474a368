import ArgumentParser
import Training

/// `xright demo`: the built-in task and model, ALRIGHT at λ = 0.5.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train the built-in demo model on the built-in task (ALRIGHT, λ = 0.5); no files needed.",
        discussion: "Takes every option of `xright train`; the defaults make a run of a few minutes on two cores.")

    @OptionGroup var options: TrainArguments

    @OptionGroup var display: DisplayArguments

    @OptionGroup var configFile: ConfigFileArguments

    @OptionGroup var exports: LiveExportArguments

    @Flag(help: "Print progress lines instead of opening the dashboard (same as --no-tui).")
    var headless = false

    func run() throws {
        var arguments = options
        if arguments.maxSteps == nil && arguments.epochs == 1 { arguments.epochs = 8 }
        try TrainRunner(arguments: arguments, display: display, headless: headless, resume: nil, exports: exports.live).execute()
    }
}
