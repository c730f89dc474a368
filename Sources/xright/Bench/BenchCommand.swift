import ArgumentParser

/// `xright bench …`: measured figures, printed as text or JSON.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine, the tokenizer and the dashboard on this machine.",
        subcommands: [BenchEngineCommand.self, BenchTokenizer.self, BenchStrategiesCommand.self,
                      BenchTUICommand.self, BenchReplayCommand.self, BenchGenerateCommand.self, BenchSamplesCommand.self])
}
