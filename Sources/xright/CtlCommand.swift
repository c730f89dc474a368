import ArgumentParser
import Foundation
import Remote
import Training

/// `xright ctl RUN_DIR ACTION`: control a live run without a screen (scripts, a phone's SSH app).
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Control a live run: lambda V | pause | resume | step | eval | sample | checkpoint | stop | strategy NAME | status.",
        discussion: """
            Commands are applied between optimizer steps; ctl waits until the run applied or refused them and exits \
            non-zero on a refusal. `stop` also waits for the final checkpoint (unless --no-wait). `sample` has the \
            run answer its probe prompts now (the dashboard's `r`) and prints the replies; a run started with \
            --sample-every 0 refuses it. `status` works on finished and crashed runs too (read from run.jsonl).
            """)

    @Argument(help: "The run directory.")
    var runDir: String

    @Argument(help: "lambda, pause, resume, step, eval, sample, checkpoint, stop, strategy or status.")
    var action: String

    @Argument(help: "λ in [0, 1] for `lambda`; a strategy name for `strategy`.")
    var value: String?

    @Flag(help: "status: print JSON (step, lambda, state, losses, …) instead of text.")
    var json = false

    @Flag(help: "stop, eval, sample, checkpoint: return once the command is applied, without waiting for its result.")
    var noWait = false

    @Option(help: "Seconds to wait for the run's answer (and for stop's final checkpoint).")
    var timeout: Double = 600

    enum Action { case status, command(SessionCommand) }

    func validate() throws {
        _ = try parsedAction()
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0 seconds, got \(timeout)") }
    }

    func parsedAction() throws -> Action {
        func noValue() throws {
            if let value { throw ValidationError("`\(action)` takes no value; got '\(value)'") }
        }
        switch action {
        case "status": try noValue(); return .status
        case "pause": try noValue(); return .command(.pause)
        case "resume": try noValue(); return .command(.resume)
        case "step": try noValue(); return .command(.stepOnce)
        case "eval": try noValue(); return .command(.evaluateNow)
        case "sample": try noValue(); return .command(.sampleNow)
        case "checkpoint": try noValue(); return .command(.checkpointNow)
        case "stop": try noValue(); return .command(.stop)
        case "lambda":
            guard let value else { throw ValidationError("`lambda` needs a value in [0, 1], e.g. `xright ctl RUN_DIR lambda 0.3`") }
            do { return .command(.setLambda(try Lambda(parsing: value))) } catch let error as LambdaError {
                throw ValidationError(error.description)
            }
        case "strategy":
            guard let value, let name = StrategyName(rawValue: value) else {
                throw ValidationError("`strategy` needs one of \(StrategyName.allCases.map(\.rawValue).joined(separator: ", "))"
                                      + (value.map { "; got '\($0)'" } ?? ""))
            }
            return .command(.switchStrategy(name))
        default:
            throw ValidationError("unknown action '\(action)'; expected lambda, pause, resume, step, eval, sample, checkpoint, stop, strategy or status")
        }
    }

    func run() throws {
        let run = RunDirectory(URL(fileURLWithPath: runDir))
        guard FileManager.default.fileExists(atPath: run.log.path) else {
            throw CLIError("\(run.url.path): not a run directory (no run.jsonl)")
        }
        switch try parsedAction() {
        case .status: try printStatus(run)
        case .command(let command): try send(command, to: run)
        }
    }

    private func printStatus(_ run: RunDirectory) throws {
        let report: RunStatusReport
        if let client = try? RemoteClient(runDirectory: run) {
            report = try client.status(timeout: timeout)
        } else {
            report = RunCatalog.describe(run).report
        }
        if json {
            let encoder = RunLogCoding.makeEncoder()
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            StatusText.lines(report).forEach { print($0) }
        }
    }

    private func send(_ command: SessionCommand, to run: RunDirectory) throws {
        let client = try RemoteClient(runDirectory: run)
        // Subscribed first (live records only), so the command's result cannot slip past unseen.
        let waitsForResult = !noWait && [.stop, .evaluateNow, .checkpointNow, .sampleNow].contains(command)
        if waitsForResult { _ = try client.subscribe(since: nil, timeout: timeout) }
        let reply = try client.command(command, timeout: timeout)
        guard reply.ok else {
            throw CLIError("\(command.description): refused by the run\(reply.step.map { " at step \($0)" } ?? ""): \(reply.error ?? "no reason given")")
        }
        print("\(command.description): applied after step \(reply.step.map(String.init) ?? "?")")
        guard waitsForResult else { return }
        let deadline = Date(timeIntervalSinceNow: timeout)
        var checkpoint: String?
        while deadline.timeIntervalSinceNow > 0 {
            let message: ServerMessage?
            do { message = try client.next(timeout: deadline.timeIntervalSinceNow) } catch RemoteError.closed(_) {
                if command == .stop { print("the run ended\(checkpoint.map { "; final checkpoint: \($0)" } ?? "")"); return }
                throw RemoteError.closed(socket: client.socketPath)
            }
            guard case .record(_, let record)? = message else { continue }
            switch (command, record.event) {
            case (.evaluateNow, .eval(let e)): print(EventText.eval(e)); return
            case (.sampleNow, .sample(let s)) where s.reason == .command:
                print("probe \(s.probe + 1)\(s.probes.map { "/\($0)" } ?? ""): \(s.prompt)\n  → \(s.reply)")
                if s.probe + 1 >= (s.probes ?? 1) { return }
            case (.sampleNow, .warning(let w)) where w.kind == .evaluationFailed:
                throw CLIError(w.message)
            case (.checkpointNow, .checkpointSaved(let c)): print("checkpoint: step \(c.step) → \(c.path)"); return
            case (.stop, .checkpointSaved(let c)): checkpoint = c.path
            case (.checkpointNow, .warning(let w)) where w.kind == .checkpointFailed:
                throw CLIError("checkpoint failed: \(w.message)")
            case (.stop, .finished(let f)):
                print("stopped at step \(f.step)\(checkpoint.map { "; final checkpoint: \($0)" } ?? " (no new checkpoint: the latest one was current)")")
                return
            default: break
            }
        }
        throw RemoteError.timedOut(socket: client.socketPath, waitingFor: "result of \(command.name)", seconds: timeout)
    }
}

/// Human lines for a run's status (ctl status, attach's opening summary).
enum StatusText {
    static func lines(_ r: RunStatusReport) -> [String] {
        func loss(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.4f", $0) : String($0) } ?? "-" }
        var live = r.state.rawValue
        if let pid = r.pid { live += ", pid \(pid)" }
        if let viewers = r.viewers { live += ", \(viewers) viewer\(viewers == 1 ? "" : "s")" }
        var lines = ["run:        \(r.runDirectory) (\(live))"]
        let planned = r.plannedSteps.map { "/\($0)" } ?? ""
        lines.append("step:       \(r.step)\(planned)  epoch \(r.epoch)")
        lines.append("strategy:   \(r.strategy ?? "-")  λ \(r.lambda.map { String(format: "%.2f", $0) } ?? "-")")
        lines.append("losses:     f_sft \(loss(r.losses.sft))  f_dpo \(loss(r.losses.dpo))")
        if let e = r.evalLosses {
            lines.append("held-out:   f_sft \(loss(e.sft))  f_dpo \(loss(e.dpo))"
                         + (r.idealDistance.map { String(format: "  ideal distance %.4f", $0) } ?? ""))
        }
        if let t = r.tokensPerSecond { lines.append("speed:      \(Int(t.rounded())) tok/s" + (r.elapsedSeconds.map { "  elapsed \(HeadlessProgress.duration($0))" } ?? "")) }
        if let c = r.lastCheckpoint { lines.append("checkpoint: \(c)") }
        if let f = r.finished { lines.append("finished:   step \(f.step), \(f.reason.rawValue)\(f.message.isEmpty ? "" : " (\(f.message))")") }
        return lines
    }
}
