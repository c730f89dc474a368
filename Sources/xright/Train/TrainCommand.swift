import ArgumentParser
import Dashboard
import Dispatch
import Engine
import Foundation
import PrometheusMetrics
import Remote
import Text
import Training

/// `xright train`: joint SFT + DPO training with one of the paper's strategies.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train SFT and DPO jointly (ALRIGHT, MAXRIGHT, mix) or with a baseline strategy.",
        discussion: """
            Writes a run directory: run.jsonl (every event), checkpoints/ and final/ (a Hugging Face model \
            directory). Without data files it trains on the built-in demo task. SIGINT/SIGTERM stop the run after \
            the current step with a checkpoint; `--resume RUN_DIR` continues from the latest checkpoint.
            """)

    @OptionGroup var options: TrainArguments

    @OptionGroup var display: DisplayArguments

    @OptionGroup var configFile: ConfigFileArguments

    @OptionGroup var exports: LiveExportArguments

    @Flag(help: "Print one progress line a second instead of opening the dashboard (same as --no-tui).")
    var headless = false

    @Option(help: """
        Continue the run in this directory from its latest checkpoint (its options are read from run.jsonl; \
        --max-steps, --eval-every, --checkpoint-every, --keep-checkpoints, --threads and the display options may \
        be given anew).
        """)
    var resume: String?

    @Flag(help: "Run in the background (own session; output to RUN_DIR/output.log) and print how to attach to it.")
    var detach = false

    @Option(help: ArgumentHelp("""
        Start a new run with the options RUN_DIR was started with (read from its run.jsonl header); options given \
        here or in --config override them. --print-config shows the result.
        """, valueName: "run-dir"), completion: .directory)
    var like: String?

    func validate() throws {
        if like != nil, resume != nil {
            throw ValidationError("--like starts a new run from another run's options; --resume continues a run: give one of them")
        }
    }

    func run() throws {
        if detach {
            let chosen = resume ?? options.runDir
            let directory = chosen.map { URL(fileURLWithPath: $0) }
                ?? RunsRoot.newRunDirectory(root: RunsRoot.resolve(options.runsRoot), strategy: options.strategy.rawValue)
            try DetachLauncher.launch(arguments: Array(CommandLine.arguments.dropFirst()), runDirectory: directory,
                                      addRunDir: chosen == nil)
            return
        }
        let given = resume == nil ? [] : try ResumeOverrides.check(CommandLine.arguments.dropFirst())
        try TrainRunner(arguments: options, display: display, headless: headless, resume: resume,
                        resumeOverrides: given, exports: exports.live).execute()
    }
}

/// Runs a training session to its end in this process: headless progress, signals, final model.
struct TrainRunner {
    let arguments: TrainArguments
    var display = DisplayArguments()
    let headless: Bool
    let resume: String?
    /// Options given again with `--resume` that apply to the continued run (see `ResumeOverrides`).
    var resumeOverrides: Set<String> = []
    var exports = LiveExports()

    func execute() throws {
        // A resumed run keeps its thread count unless told otherwise: results are bit-identical only then.
        let recordedThreads = try resume.flatMap { try RunSetup.engineThreads(ofRun: RunDirectory(URL(fileURLWithPath: $0))) }
        arguments.engine.configure(fallback: recordedThreads)
        let runDirectory: RunDirectory
        var options: RunOptions
        var checkpoint: URL?
        if let resume {
            runDirectory = RunDirectory(URL(fileURLWithPath: resume))
            options = try RunSetup.options(fromRun: runDirectory)
            guard let latest = try CheckpointStore(directory: runDirectory.checkpoints).latest() else {
                throw CLIError("\(runDirectory.checkpoints.path): no complete checkpoint to resume from")
            }
            checkpoint = latest.directory
            ResumeOverrides.apply(resumeOverrides, from: arguments, to: &options.training)
        } else {
            options = try arguments.runOptions()
            options.samples = try arguments.probeSchedule()
            if options.training.optima == nil {
                options.training.optima = Self.storedOptima(for: options, runsRoot: RunsRoot.resolve(arguments.runsRoot))
            }
            let url = arguments.runDir.map { URL(fileURLWithPath: $0) }
                ?? RunsRoot.newRunDirectory(root: RunsRoot.resolve(arguments.runsRoot), strategy: arguments.strategy.rawValue)
            runDirectory = RunDirectory(url)
            if FileManager.default.fileExists(atPath: runDirectory.log.path) {
                throw CLIError("\(runDirectory.log.path) exists: this directory holds a run already (use --resume to continue it)")
            }
            try runDirectory.create()
        }
        // A run that fails before it begins leaves no empty directory behind (one it did not create is kept).
        let createdHere = resume == nil
        var began = false
        defer { if createdHere, !began { Self.removeIfEmpty(runDirectory.url) } }
        if let note = SequentialSchedule.emptyPhaseNote(strategy: options.training.strategy, lambda: options.training.lambda,
                                                        epochBudget: options.training.maxEpochs) {
            printErr("warning: \(note)")
        }
        options.training.checkpointOnFinish = true
        let dashboard = display.dashboardOptions(headless: headless)
        // With the dashboard up, a hangup first takes the UI down; LiveDashboard then moves output to the log.
        let hangup = HangupGuard(outputLog: runDirectory.outputLog, onHangup: dashboard == nil ? nil : { Dashboard.noteHangup() })
        defer { hangup.cancel() }
        let progress = ProgressLine()
        let prepared = try RunSetup.prepare(options, runDirectory: runDirectory, resumeFrom: checkpoint,
                                            programVersion: XRightVersion.string) { progress.update($0 + "…") }
        progress.finish()
        began = true
        printErr("run directory: \(runDirectory.url.path)")
        if let note = Self.heldOutNote(prepared) { printErr("warning: \(note)") }
        for line in prepared.dataSummary { printErr("  " + line) }
        // Progress lines go to stderr only without the dashboard: they would scribble over the screen.
        if dashboard == nil { subscribeProgressLines(prepared.session) }
        let telemetry = display.startTelemetry(on: prepared.session)
        defer { telemetry?.stop() }
        let liveExports = try exports.attach(to: prepared.session, runDirectory: runDirectory)
        defer { liveExports.compactMap { $0 as? MetricsServer }.forEach { $0.close() } }
        let server = RunServer(runDirectory: runDirectory, control: prepared.session)
        server.onNotice = { notice in if dashboard == nil { printErr("remote: \(notice)") } }
        do {
            try server.start()
            prepared.session.subscribe(server.publish)
            printErr("attach: xright attach \(runDirectory.url.path)   control: xright ctl \(runDirectory.url.path) status")
        } catch {
            printErr("warning: the run cannot be attached to or controlled remotely: \(error)")
        }
        defer { server.close() }
        let finished: RunFinished
        if let dashboard {
            // The dashboard handles Ctrl-C and SIGTERM itself (checkpoint, stop, terminal restored).
            finished = try LiveDashboard.run(prepared.session, options: dashboard, outputLog: runDirectory.outputLog)
        } else {
            let signals = SignalStop { prepared.session.stop(bySignal: $0) }
            defer { signals.cancel() }
            try prepared.session.start()
            finished = prepared.session.waitUntilFinished()!
        }
        try Self.saveFinalModel(prepared, runDirectory)
        printErr("finished at step \(finished.step): \(finished.reason.rawValue)\(finished.message.isEmpty ? "" : " (\(finished.message))")")
        if finished.reason == .nonFinite || finished.reason == .failed { throw ExitCode(2) }
        // As shells expect of a program stopped by a signal: 128 + the signal's number.
        if let signal = prepared.session.stoppingSignal { throw ExitCode(128 + signal) }
    }

    static func removeIfEmpty(_ directory: URL) {
        guard let contents = try? FileManager.default.contentsOfDirectory(atPath: directory.path), contents.isEmpty else { return }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Held-out data is what the evaluations measure; without it for both objectives the setup turns them off
    /// (ideal distance and stop rule need both): say so instead of silently showing none.
    static func heldOutNote(_ prepared: PreparedRun) -> String? {
        guard prepared.options.training.evalEvery != nil, prepared.session.config.evalEvery == nil else { return nil }
        let empty = prepared.dataSummary.filter { $0.contains(" 0 held-out") }
            .map { $0.hasPrefix("sft") ? "SFT examples" : "DPO pairs" }
        return "no held-out \(empty.isEmpty ? "data" : empty.joined(separator: " or ")) (--eval-fraction "
            + "\(prepared.options.evalFraction)): held-out evaluation is off for this run"
    }

    private func subscribeProgressLines(_ session: TrainingSession) {
        let lines = HeadlessProgress { printErr($0) }
        session.subscribe { record in
            lines.observe(record)
            switch record.event {
            case .eval(let e): printErr(EventText.eval(e))
            case .warning(let w): printErr("warning: \(w.message)")
            case .checkpointSaved(let c): printErr("checkpoint: step \(c.step) → \(c.path)")
            default: break
            }
        }
    }

    /// The optima `xright optimum` stored under the runs root, when they were measured on this model and data.
    static func storedOptima(for options: RunOptions, runsRoot: URL) -> Optima? {
        let file = OptimaRecord.defaultFile(runsRoot: runsRoot)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            let record = try OptimaRecord.read(file)
            if let difference = record.source.firstDifference(from: OptimaSource(options)) {
                printErr("not using \(file.path): measured on a different setup (\(difference))")
                return nil
            }
            printErr(String(format: "optima from %@: f_sft* = %.4f, f_dpo* = %.4f", file.path, record.sftOpt, record.dpoOpt))
            return record.optima
        } catch {
            printErr("warning: not using the stored optima: \(error)")
            return nil
        }
    }

    static func saveFinalModel(_ prepared: PreparedRun, _ runDirectory: RunDirectory) throws {
        let final = runDirectory.url.appendingPathComponent("final")
        let export = ModelExport(options: prepared.options, tokenizer: prepared.tokenizer)
        try export.writeModel(prepared.backend.model, to: final)
        if prepared.backend.model.adapters != nil {
            try ModelDirectory.saveAdapters(prepared.backend.model, to: runDirectory.url.appendingPathComponent("adapters"),
                                            dtype: export.dtype)
        }
        printErr("final model: \(final.path)")
    }
}

/// Turns SIGINT and SIGTERM into one call with the signal's number (a graceful stop with a checkpoint); a second
/// signal exits at once with 128 + its number.
final class SignalStop {
    private var sources: [DispatchSourceSignal] = []
    private var fired = false

    init(_ handler: @escaping (Int32) -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.fired { _exit(128 + sig) }
                self.fired = true
                printErr("\(SignalName.of(sig)): stopping after the current step (checkpointing); signal again to quit at once")
                handler(sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// A run outlives its terminal: SIGHUP is ignored, and on hangup stdout and stderr move to the run's
/// `output.log` (writes to a vanished terminal would fail).
final class HangupGuard {
    private let source: DispatchSourceSignal

    /// With `onHangup`, a hangup is handed to it (the dashboard leaves the screen first, then redirects);
    /// without, output moves to `outputLog` at once.
    init(outputLog: URL, onHangup: (() -> Void)? = nil) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            if let onHangup { onHangup(); return }
            Self.redirectOutput(to: outputLog)
            printErr("terminal hung up (SIGHUP); training goes on, output continues here")
        }
        source.resume()
    }

    /// Points stdout and stderr at the run's output log (the terminal is gone).
    static func redirectOutput(to outputLog: URL) {
        let fd = open(outputLog.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        dup2(fd, STDOUT_FILENO)
        dup2(fd, STDERR_FILENO)
        close(fd)
    }

    func cancel() { source.cancel() }
}

enum EventText {
    static func eval(_ e: EvalEvent) -> String {
        var s = "eval at step \(e.step):"
        if let v = e.sft?.loss { s += String(format: " f_sft %.4f", v) }
        if let v = e.dpo?.loss { s += String(format: " f_dpo %.4f", v) }
        if let a = e.dpo?.preference?.rewardAccuracy { s += String(format: " (reward accuracy %.0f%%)", 100 * a) }
        if let d = e.idealDistance { s += String(format: "  ideal distance %.4f", d) }
        if let m = e.multipleChoice { s += String(format: "  mc acc %.4f acc_norm %.4f", m.acc, m.accNorm) + " (\(m.questions) questions)" }
        return s
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

func printErr(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// Options given again with `--resume`. The run's own options come from its log; a few bounds and periods may
/// change (a new step budget, evaluation and checkpoint periods, threads, display); anything that decides what
/// the steps compute is refused rather than silently ignored.
enum ResumeOverrides {
    static let applied = ["--max-steps", "--eval-every", "--checkpoint-every", "--keep-checkpoints", "--threads"]
    static let display = ["--resume", "--headless", "--no-tui", "--theme", "--no-gpu", "--ascii", "--telemetry-seconds", "--detach",
                          "--help", "-h"]

    /// The applied options among `arguments` (the command line after the program name); throws naming those
    /// that cannot change.
    static func check<Arguments: Sequence<String>>(_ arguments: Arguments) throws -> Set<String> {
        var given = Set<String>(), refused = [String]()
        for argument in arguments where argument.hasPrefix("-") && argument != "-" && Double(argument) == nil {
            let name = String(argument.split(separator: "=", maxSplits: 1)[0])
            if applied.contains(name) { given.insert(name) }
            else if !display.contains(name), !refused.contains(name) { refused.append(name) }
        }
        guard refused.isEmpty else {
            throw ValidationError("""
                --resume continues a run with the options it was started with (read from its run.jsonl); \
                these cannot change: \(refused.joined(separator: ", ")). To change λ or the strategy of a live run, \
                use `xright ctl RUN_DIR lambda X` or the dashboard; for other settings start a new run. Options \
                that apply on resume: \(applied.joined(separator: ", ")) and the display options.
                """)
        }
        return given
    }

    static func apply(_ given: Set<String>, from arguments: TrainArguments, to training: inout TrainingConfig) {
        if given.contains("--max-steps") { training.maxSteps = arguments.maxSteps }
        if given.contains("--eval-every") { training.evalEvery = arguments.evalEvery > 0 ? arguments.evalEvery : nil }
        if given.contains("--checkpoint-every") { training.checkpointEvery = arguments.checkpointEvery }
        if given.contains("--keep-checkpoints") {
            training.keepCheckpoints = arguments.keepCheckpoints > 0 ? arguments.keepCheckpoints : nil
        }
    }
}
