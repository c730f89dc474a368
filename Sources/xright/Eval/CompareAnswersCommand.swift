import ArgumentParser
import Engine
import Foundation
import Text
import Training

/// `xright compare-answers`: two models answer the same prompts greedily; a local judge picks the better
/// answer, or a person reads them side by side (docs/EVAL.md, "Comparing answers").
struct CompareAnswersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-answers",
        abstract: "Answer prompts with two models and report A's win rate under a local judge (or print the answers side by side).",
        discussion: """
            A and B are model directories, .gguf files, run directories or run checkpoints; each answers in its \
            own prompt format, greedily. JUDGE is a reward model (a GPTNeoX/LlamaForSequenceClassification \
            directory with a score.weight head) or a DPO-trained model scored by its implicit reward \
            β·(log π − log π_ref) against --judge-ref (default for a run: its base model). A wins a prompt when \
            its score is higher; equal scores or identical answers are ties, counted as half a win in the win \
            rate and its 95% Wilson interval, and reported on their own.
            """)

    @Argument(help: "Model A (a directory, .gguf, run directory or RUN/checkpoints/step-N).")
    var modelA: String

    @Argument(help: "Model B.")
    var modelB: String

    @Option(help: "Prompts: one per line, or JSONL objects with a \"prompt\" field.")
    var prompts: String

    @Option(help: "The judge: a reward-model directory, or a DPO-trained model or run (implicit reward).")
    var judge: String?

    @Option(help: "The DPO judge's reference model (default for a run: its base model).")
    var judgeRef: String?

    @Option(parsing: .unconditional, help: "β of the DPO judge's implicit reward (default: its run's, else 0.1).")
    var beta: Double?

    @Option(help: "Prompt format of the judge (default: its run's, else its chat template, else xright).")
    var judgeTemplate: String?

    @Option(help: "Write every pair (prompt, both answers, both scores, winner) as JSON lines to this file.")
    var out: String?

    @Option(parsing: .unconditional, help: "Most new tokens per answer.")
    var maxNewTokens: Int = 128

    @OptionGroup var engine: EngineThreadOptions

    @Flag(help: "The summary as one JSON object on stdout (docs/EVAL.md).")
    var json = false

    func validate() throws {
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be ≥ 1, got \(maxNewTokens)") }
        if judgeRef != nil && judge == nil { throw ValidationError("--judge-ref needs --judge JUDGE") }
        if beta != nil && judge == nil { throw ValidationError("--beta is the DPO judge's; give --judge JUDGE") }
        if let beta, !(beta.isFinite && beta > 0) { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
        if json && judge == nil { throw ValidationError("--json reports a judged comparison; give --judge JUDGE") }
    }

    func run() throws {
        engine.configure()
        let list = try PromptList.read(prompt: nil, file: prompts)
        // Load the judge first: a bad judge is refused before minutes of generation.
        let judged = try judge.map { try AnswerJudge.load($0, reference: judgeRef, template: judgeTemplate, beta: beta) }
        let progress = EvalProgress()
        let answersA = try GreedyAnswers.generate(modelA, label: "A", list, maxNewTokens: maxNewTokens, progress: progress)
        let answersB = try GreedyAnswers.generate(modelB, label: "B", list, maxNewTokens: maxNewTokens, progress: progress)

        var pairs = [AnswerPair]()
        if let judged {
            var items = [(prompt: String, answer: String)]()
            for i in list.indices { items += [(list[i], answersA[i]), (list[i], answersB[i])] }
            let scores = try judged.scores(items)
            for i in list.indices {
                let a = scores[2 * i], b = scores[2 * i + 1]
                let winner = answersA[i] == answersB[i] || a == b ? "tie" : (a > b ? "a" : "b")
                pairs.append(AnswerPair(prompt: list[i], answerA: answersA[i], answerB: answersB[i], scoreA: a, scoreB: b, winner: winner))
            }
        } else {
            pairs = list.indices.map { AnswerPair(prompt: list[$0], answerA: answersA[$0], answerB: answersB[$0],
                                                  scoreA: nil, scoreB: nil, winner: nil) }
        }
        if let out {
            let lines = try pairs.map { try EvalJSON.string($0) + "\n" }.joined()
            do { try Data(lines.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw CLIError("--out \(out): cannot write (\(error.localizedDescription))")
            }
        }
        guard let judged else {
            print(SideBySide.render(pairs, a: modelA, b: modelB, width: SideBySide.terminalWidth()))
            return
        }
        let tally = WinRate(wins: pairs.filter { $0.winner == "a" }.count, losses: pairs.filter { $0.winner == "b" }.count,
                            ties: pairs.filter { $0.winner == "tie" }.count)
        let (low, high) = tally.interval95
        let summary = CompareSummary(a: modelA, b: modelB, judge: judged.description, judgeKind: judged.kindName,
                                     prompts: tally.count, winsA: tally.wins, winsB: tally.losses, ties: tally.ties,
                                     winRateA: tally.rate, interval95: [low, high], tiesCounted: "half", out: out)
        if json {
            print(try EvalJSON.string(summary))
        } else {
            print("judge: \(judged.description)")
            print("A \(modelA) vs B \(modelB), \(tally.count) prompts: A wins \(tally.wins), B wins \(tally.losses), ties \(tally.ties)")
            print(String(format: "win rate of A: %.3f (95%% Wilson interval %.3f–%.3f; ties count half)", tally.rate, low, high))
        }
    }
}

/// One line of `--out`.
struct AnswerPair: Encodable {
    let prompt: String
    let answerA: String
    let answerB: String
    let scoreA: Double?
    let scoreB: Double?
    /// "a", "b" or "tie"; nil without a judge.
    let winner: String?
}

/// `compare-answers --json`.
struct CompareSummary: Encodable {
    let a: String
    let b: String
    let judge: String
    let judgeKind: String
    let prompts: Int
    let winsA: Int
    let winsB: Int
    let ties: Int
    let winRateA: Double
    let interval95: [Double]
    let tiesCounted: String
    let out: String?
}

/// Greedy answers of one model to every prompt, in the model's own prompt format, stopping at its end tokens.
enum GreedyAnswers {
    static func generate(_ path: String, label: String, _ prompts: [String], maxNewTokens: Int,
                         progress: EvalProgress) throws -> [String] {
        let setup = try GenerationModel.load(modelPath: path, template: nil, option: "model \(label)")
        let encoded = try prompts.map { text -> [Int] in
            let ids = setup.tokenizer.encode(try setup.format.renderPrompt(text))
            guard !ids.isEmpty else { throw CLIError("the prompt \"\(text.prefix(40))\" encodes to no tokens for model \(label)") }
            return ids
        }
        let limit = setup.model.config.maxPositions
        let longest = encoded.map(\.count).max()! + maxNewTokens
        guard longest - 1 <= limit else {
            throw CLIError("model \(label) (\(path)): a prompt of \(longest - maxNewTokens) tokens plus --max-new-tokens "
                + "\(maxNewTokens) exceeds its \(limit) positions; lower --max-new-tokens or shorten the prompt")
        }
        let decoder = try Decoders.make(for: setup.model, capacity: min(limit, longest))
        var answers = [String]()
        for ids in encoded {
            var sampler = Sampler(.greedy)
            let result = try Generator.run(decoder, prompt: ids, maxNewTokens: maxNewTokens, sampler: &sampler,
                                           endTokens: setup.endTokens)
            answers.append(setup.tokenizer.decode(result.ids))
            progress.report("answers of \(label)", done: answers.count, of: prompts.count)
        }
        return answers
    }
}

/// The two answers to each prompt in two columns, for a person to judge.
enum SideBySide {
    static func terminalWidth() -> Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns >= 40 { return columns }
        return 100
    }

    static func render(_ pairs: [AnswerPair], a: String, b: String, width: Int) -> String {
        let column = max(16, (width - 3) / 2)
        var lines = [String]()
        for (i, pair) in pairs.enumerated() {
            lines.append(String(repeating: "─", count: min(width, 2 * column + 3)))
            lines.append("prompt \(i + 1): \(pair.prompt)")
            let left = ["A: \(a)"] + wrap(pair.answerA, column), right = ["B: \(b)"] + wrap(pair.answerB, column)
            for row in 0..<max(left.count, right.count) {
                let l = row < left.count ? left[row] : "", r = row < right.count ? right[row] : ""
                lines.append(pad(l, column) + " │ " + r)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Lines of at most `width` characters, broken at spaces where possible; the answer's own newlines kept.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        var out = [String]()
        // Control characters (a barely trained model emits any byte) would move the terminal's cursor.
        let text = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F ? "·" : $0 }))
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ", omittingEmptySubsequences: false) {
                var word = String(word)
                while word.count > width {
                    if !line.isEmpty { out.append(line); line = "" }
                    out.append(String(word.prefix(width)))
                    word = String(word.dropFirst(width))
                }
                if line.isEmpty { line = word } else if line.count + 1 + word.count <= width { line += " " + word } else {
                    out.append(line)
                    line = word
                }
            }
            out.append(line)
        }
        return out
    }

    static func pad(_ text: String, _ width: Int) -> String {
        let visible = text.count > width ? String(text.prefix(width)) : text
        return visible + String(repeating: " ", count: width - visible.count)
    }
}
