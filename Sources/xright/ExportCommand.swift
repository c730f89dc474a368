import ArgumentParser
import Foundation
import TensorBoard

/// `xright export`: runs and models in other tools' formats.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write runs and models in other tools' formats (TensorBoard, GGUF, Hugging Face).",
        subcommands: [ExportTensorBoardCommand.self, ExportGGUFCommand.self, ExportHFCommand.self])
}

/// `xright export tensorboard RUN_DIR… OUT_DIR`: finished runs (xright's or the PyTorch bridge's) as TensorBoard
/// event files, one subdirectory of OUT_DIR per run.
struct ExportTensorBoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensorboard",
        abstract: "Write runs' logs as TensorBoard event files, one subdirectory per run.",
        discussion: """
            Scalars: every loss, evaluation figure, λ, learning rate, gradient norm, tokens/s and the objective \
            chosen each step; text: the run's settings, commands, warnings and how it ended. Then: \
            tensorboard --logdir OUT_DIR. W&B: wandb sync --sync-tensorboard OUT_DIR/RUN.
            """)

    @Argument(help: ArgumentHelp("Run directories (or run.jsonl files), then the output directory.", valueName: "run-dir… out-dir"),
              completion: .directory)
    var paths: [String] = []

    func validate() throws {
        guard paths.count >= 2 else {
            throw ValidationError("name at least one run directory and then the output directory (xright export tensorboard runs/a runs/b tb)")
        }
    }

    func run() throws {
        let output = URL(fileURLWithPath: paths.last!)
        let runs = paths.dropLast().map { URL(fileURLWithPath: $0) }
        do {
            for exported in try RunLogExport.export(runs: runs, to: output) {
                print("\(exported.run): \(exported.events) events → \(exported.directory.path)")
            }
        } catch let error as TensorBoardError {
            throw CLIError(error.description)
        }
        print("view: tensorboard --logdir \(output.path)")
    }
}
