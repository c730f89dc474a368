import ArgumentParser
import Training

/// `xright demo`: the built-in task and model, ALRIGHT at λ = 0.5.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train the built-in demo model on the built-in task (ALRIGHT, λ = 0.5); no files needed.",
        discussion: "Takes every option of `xright train`; the defaults make a run of a few minutes on two cores.")

    @OptionGroup var options: TrainArguments

    @Flag(help: "Print progress lines instead of opening the dashboard.")
    var headless = false

    func run() throws {
        var arguments = options
        if arguments.maxSteps == nil && arguments.epochs == 1 { arguments.epochs = 3 }
        try TrainRunner(arguments: arguments, headless: true, resume: nil).execute()
    }
}
