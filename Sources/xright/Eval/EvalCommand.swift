import ArgumentParser
import Data
import Engine
import Foundation
import Text
import Training

/// `xright eval`: how good a model or a run's model is, offline (docs/EVAL.md).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model or run: SFT loss and perplexity, DPO loss, preference accuracy, multiple-choice accuracy.",
        discussion: """
            MODEL is a Hugging Face directory, a .gguf file, a run directory (its final/ model, else its newest \
            checkpoint) or one checkpoint (RUN/checkpoints/step-000040). For a run, the SFT and preference data, \
            template, truncation, β and held-out split default to the run's, and the DPO reference is the run's \
            base model. --mc scores a JSONL of {question, choices, answer} by log-likelihood in \
            lm-evaluation-harness's convention ("Question: …\\nAnswer:", each choice a " choice" continuation) and \
            reports acc and acc_norm. Figures go to stdout (one JSON object with --json); progress to stderr.
            """)

    @Argument(help: "The model: a Hugging Face directory, a .gguf file, a run directory or RUN/checkpoints/step-N.")
    var model: String

    @OptionGroup var configFile: ConfigFileArguments

    @Option(help: "Tokenizer ('byte', a tokenizer.json or a directory) instead of the model's own.")
    var tokenizer: String?

    @Option(help: "SFT data (the formats train reads). Default for a run: the run's SFT data.")
    var sft: String?

    @Option(help: "Preference data (the formats train reads). Default for a run: the run's preference data.")
    var pref: String?

    @Option(help: "Data format when it cannot be detected from the content.")
    var format: RecordFormat?

    @Flag(help: "Treat any bad data record as an error instead of skipping it.")
    var strict = false

    @Flag(help: "Leave out the run's own SFT and preference data (evaluate only what is given).")
    var noRunData = false

    @Option(help: "Records to evaluate: heldout (the split --eval-fraction/--data-seed pick) or all. Default: heldout for a run (the run's own split), all otherwise.")
    var split: EvalRecords?

    @Option(parsing: .unconditional, help: "Held-out share for --split heldout (default: the run's, else 0.05).")
    var evalFraction: Double?

    @Option(parsing: .unconditional, help: "Seed of the held-out split (default: the run's --seed, else 0).")
    var dataSeed: UInt64?

    @Option(help: "Prompt template for the data: xright, raw, alpaca, hh or a string with {prompt} (default: the run's, else xright).")
    var template: String?

    @Option(parsing: .unconditional, help: "Truncate sequences to this many tokens (default: the run's, else the model's positions).")
    var maxLen: Int?

    @Option(help: "Reference model for DPO loss and rewards (default: the run's base model; required outside a run).")
    var refModel: String?

    @Option(parsing: .unconditional, help: "DPO β (default: the run's, else 0.1).")
    var beta: Double?

    @Option(help: "Multiple-choice JSONL: {\"question\", \"choices\": [...], \"answer\": index or letter} per line.")
    var mc: String?

    @Option(parsing: .unconditional, help: "Solved examples before each question (k-shot), the first k questions of --shots-from.")
    var shots: Int = 0

    @Option(help: "Where the k-shot examples come from (default: the --mc file itself; its first k questions are then not scored).")
    var shotsFrom: String?

    @Option(help: "Write one JSON line per multiple-choice question (log-likelihoods, predictions) to this file.")
    var details: String?

    @Option(parsing: .unconditional, help: "Sequences per forward pass.")
    var batchSize: Int = 8

    @OptionGroup var engine: EngineThreadOptions

    @Flag(help: "One JSON object on stdout (docs/EVAL.md).")
    var json = false

    enum EvalRecords: String, ExpressibleByArgument, CaseIterable { case heldout, all }

    func validate() throws {
        if shots < 0 { throw ValidationError("--shots must be ≥ 0, got \(shots)") }
        if shots > 0 && mc == nil { throw ValidationError("--shots needs --mc FILE") }
        if shotsFrom != nil && shots == 0 { throw ValidationError("--shots-from needs --shots K (K ≥ 1)") }
        if details != nil && mc == nil { throw ValidationError("--details writes per-question lines of --mc; give --mc FILE") }
        if batchSize < 1 { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        if let maxLen, maxLen < 2 { throw ValidationError("--max-len must be ≥ 2, got \(maxLen)") }
        if let beta, !(beta.isFinite && beta > 0) { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
        if let f = evalFraction, !(f > 0 && f < 1) { throw ValidationError("--eval-fraction must be in (0, 1), got \(f)") }
    }

    func run() throws {
        engine.configure()
        let progress = EvalProgress(quiet: false)
        let resolved = try ModelOrRun.load(model, option: "MODEL", tokenizer: tokenizer)
        let options = resolved.run?.options
        var report = EvalReport(model: .init(path: model, kind: resolved.kind, loaded: resolved.source.path))

        let data = try EvalData(command: self, resolved: resolved)
        if data.sft == nil && data.pref == nil && mc == nil {
            throw CLIError("nothing to evaluate: give --sft FILE, --pref FILE or --mc FILE (or a run directory, whose own data is the default)")
        }
        if let sft = data.sft {
            let figures = HeldOutEvaluation.sft(resolved.model, sft.examples, batchSize: batchSize) {
                progress.report("sft", done: $0, of: sft.examples.count)
            }
            report.sft = .init(file: sft.origin, split: sft.split, examples: figures.examples,
                               scoredTokens: figures.scoredTokens, loss: figures.loss, perplexity: figures.perplexity)
        }
        if let pref = data.pref {
            let (reference, referenceName) = try self.reference(resolved)
            var loss = options?.preference ?? PreferenceLoss()
            if let beta { loss.beta = beta }
            let figures = HeldOutEvaluation.preference(resolved.model, reference: reference, pref.pairs, loss: loss,
                                                       batchSize: batchSize) {
                progress.report("preference", done: $0, of: pref.pairs.count)
            }
            report.preference = .init(file: pref.origin, split: pref.split, pairs: figures.pairs, beta: loss.beta,
                                      lossKind: loss.kind.rawValue, reference: referenceName, loss: figures.loss,
                                      accuracy: figures.accuracy, margin: figures.margin,
                                      chosenReward: figures.chosenReward, rejectedReward: figures.rejectedReward)
        }
        if let mc {
            report.mc = try multipleChoice(mc, resolved, progress)
        }
        report.seconds = progress.seconds
        if json {
            print(try EvalJSON.string(report))
        } else {
            print(report.text)
        }
    }

    /// `--ref-model`, else the run's base model.
    private func reference(_ resolved: ResolvedModel) throws -> (any CausalLanguageModel, String) {
        if let refModel {
            let ref = try ModelOrRun.load(refModel, option: "--ref-model")
            try ModelOrRun.requireSameTokenizer(resolved.tokenizer, "the model (\(model))", ref.tokenizer, "--ref-model \(refModel)")
            guard ref.model.config.vocabSize == resolved.model.config.vocabSize else {
                throw CLIError("--ref-model \(refModel): vocab_size \(ref.model.config.vocabSize) differs from the model's "
                    + "\(resolved.model.config.vocabSize)")
            }
            return (ref.model, refModel)
        }
        guard let base = try resolved.runReference() else {
            throw CLIError("preference figures need a reference model: give --ref-model DIR (outside a run there is no "
                + "base model to compare against)")
        }
        return (base, "the run's base model")
    }

    private func multipleChoice(_ file: String, _ resolved: ResolvedModel, _ progress: EvalProgress) throws -> EvalReport.MultipleChoice {
        var questions = try MultipleChoiceFile.read(file)
        var shotQuestions = [MultipleChoiceQuestion]()
        if shots > 0 {
            if let shotsFrom {
                let pool = try MultipleChoiceFile.read(shotsFrom)
                guard pool.count >= shots else {
                    throw CLIError("--shots-from \(shotsFrom): \(pool.count) questions, fewer than --shots \(shots)")
                }
                shotQuestions = Array(pool.prefix(shots))
            } else {
                guard questions.count > shots else {
                    throw CLIError("--mc \(file): \(questions.count) questions; --shots \(shots) takes the first \(shots) as "
                        + "examples and leaves none to score (give --shots-from FILE)")
                }
                shotQuestions = Array(questions.prefix(shots))
                questions.removeFirst(shots)
            }
        }
        var evaluator = MultipleChoiceEvaluator(model: resolved.model, tokenizer: resolved.tokenizer, shots: shotQuestions)
        evaluator.batchSize = batchSize
        let results = try evaluator.evaluate(questions) { progress.report("mc", done: $0, of: questions.count) }
        if let details {
            var lines = ""
            for r in results {
                lines += try EvalJSON.string(MultipleChoiceDetail(r)) + "\n"
            }
            do { try Data(lines.utf8).write(to: URL(fileURLWithPath: details), options: .atomic) } catch {
                throw CLIError("--details \(details): cannot write (\(error.localizedDescription))")
            }
        }
        let summary = MultipleChoiceSummary(results)
        return .init(file: file, shots: shots, shotsFrom: shots > 0 ? (shotsFrom ?? file) : nil, questions: summary.questions,
                     acc: summary.accuracy, accStderr: summary.accuracyStderr, accNorm: summary.normalizedAccuracy,
                     accNormStderr: summary.normalizedAccuracyStderr)
    }
}

/// One line of `--details`.
struct MultipleChoiceDetail: Encodable {
    let file: String
    let line: Int
    let answer: Int
    let prediction: Int
    let predictionNorm: Int
    let loglikelihoods: [Double]
    let contextTokens: Int

    init(_ r: MultipleChoiceResult) {
        file = r.question.file
        line = r.question.line
        answer = r.question.answer
        prediction = r.prediction
        predictionNorm = r.normalizedPrediction
        loglikelihoods = r.logLikelihoods
        contextTokens = r.contextTokens
    }
}
