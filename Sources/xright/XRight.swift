import ArgumentParser
import Engine

/// xright: joint SFT + DPO fine-tuning (ALRIGHT, MAXRIGHT) with a live terminal dashboard.
@main
struct XRight: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xright",
        abstract: "Fine-tune language models with SFT and DPO jointly, without forgetting either.",
        version: XRightVersion.string,
        subcommands: [DemoCommand.self, TrainCommand.self, OptimumCommand.self, SweepCommand.self, ScoreCommand.self,
                      DataCommand.self, BenchCommand.self, AttachCommand.self, CtlCommand.self, LsCommand.self,
                      ReplayCommand.self, ReportCommand.self, ExportCommand.self, GenerateCommand.self,
                      EvalCommand.self, CompareAnswersCommand.self])

    static func main() {
        BLASEnvironment.settleBeforeStart()
        // `--config FILE` and `--print-config` are applied before the command parses (Config/ConfiguredLaunch.swift).
        ConfiguredLaunch.main(Array(CommandLine.arguments.dropFirst()))
    }
}

enum XRightVersion {
    static let string = "0.1.0"
}
