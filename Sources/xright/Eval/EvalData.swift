import Data
import Engine
import Foundation
import Text
import Training

/// The SFT examples and preference pairs `xright eval` scores, tokenized as the run trained on them: the run's
/// (or the given) files or demo task, its template and truncation, and the held-out side of its split unless
/// `--split all`.
struct EvalData {
    struct SFTSet { let examples: [TokenizedExample]; let origin: String; let split: String }
    struct PreferenceSet { let pairs: [TokenizedPair]; let origin: String; let split: String }

    var sft: SFTSet?
    var pref: PreferenceSet?

    init(command c: EvalCommand, resolved: ResolvedModel) throws {
        let options = c.noRunData ? nil : resolved.run?.options
        let runOptions = resolved.run?.options
        let records = c.split ?? (resolved.run != nil ? .heldout : .all)
        let split = try EvalSplit(fraction: c.evalFraction ?? runOptions?.evalFraction ?? 0.05,
                                  seed: c.dataSeed ?? runOptions?.dataSeed ?? 0)
        let splitName = records == .all ? "all" : "heldout (fraction \(split.fraction), seed \(split.seed))"
        // The format the run trained in (or the model's, or --template): PromptFormatChoice via ModelOrRun.
        let format = try resolved.promptFormat(template: c.template)
        let positions = resolved.model.config.maxPositions
        let maxLength = c.maxLen ?? runOptions?.maxLength ?? positions
        guard maxLength <= positions else {
            throw CLIError("--max-len \(maxLength) is more than the model's \(positions) positions")
        }
        // RunSetup's truncation rule, so a run's records tokenize exactly as it trained on them.
        let tokenize = try ExampleTokenizer(tokenizer: resolved.tokenizer, format: format, maxLength: maxLength,
                                            minResponseTokens: max(1, min(16, maxLength / 2)))
        // The run's --format and --strict apply to the run's own files; a file named here is detected (or --format).
        if let name = runOptions?.dataFormat, RecordFormat(rawValue: name) == nil {
            throw CLIError("the run's data format '\(name)' is unknown to this version")
        }
        let runFormat = c.format ?? runOptions?.dataFormat.flatMap(RecordFormat.init(rawValue:))
        let runStrict = c.strict || (runOptions?.strictData ?? false)
        let given = ReadOptions(format: c.format, kind: .sft, strict: c.strict)
        let demo = try options.map { try DemoTask(seed: $0.dataSeed) }

        // SFT: --sft, else the run's file or demo task.
        let sftExamples: (examples: [SFTExample], origin: String, explicit: Bool)?
        if let path = c.sft {
            sftExamples = (try SFTReader(path: path, options: given).readAll(), path, true)
        } else if let options {
            sftExamples = try options.sftData.map {
                (try SFTReader(path: $0, options: ReadOptions(format: runFormat, kind: .sft, strict: runStrict)).readAll(), $0, false)
            } ?? (demo!.sftExamples(count: options.demoExamples), "built-in demo task", false)
        } else {
            sftExamples = nil
        }
        if let s = sftExamples {
            let kept = records == .all ? s.examples : s.examples.filter { split.isEval($0) }
            if kept.isEmpty {
                let message = "\(s.origin): no SFT records on the \(records.rawValue) side of the split (\(splitName)); "
                    + "give --split all, or a larger --eval-fraction"
                if s.explicit { throw CLIError(message) }
                printErr("note: " + message)
            } else {
                sft = SFTSet(examples: try kept.map { try tokenize.tokenize($0) }, origin: s.origin, split: splitName)
            }
        }

        let prefPairs: (pairs: [PreferencePair], origin: String, explicit: Bool)?
        if let path = c.pref {
            prefPairs = (try PreferenceReader(path: path, options: ReadOptions(format: c.format, kind: .preference, strict: c.strict)).readAll(), path, true)
        } else if let options {
            prefPairs = try options.preferenceData.map {
                (try PreferenceReader(path: $0, options: ReadOptions(format: runFormat, kind: .preference, strict: runStrict)).readAll(), $0, false)
            } ?? (demo!.preferencePairs(count: options.demoExamples), "built-in demo task", false)
        } else {
            prefPairs = nil
        }
        if let p = prefPairs {
            let kept = records == .all ? p.pairs : p.pairs.filter { split.isEval($0) }
            if kept.isEmpty {
                let message = "\(p.origin): no preference pairs on the \(records.rawValue) side of the split (\(splitName)); "
                    + "give --split all, or a larger --eval-fraction"
                if p.explicit { throw CLIError(message) }
                printErr("note: " + message)
            } else {
                pref = PreferenceSet(pairs: try kept.map { try tokenize.tokenize($0) }, origin: p.origin, split: splitName)
            }
        }
        let vocab = resolved.model.config.vocabSize
        let sequences = (sft?.examples ?? []) + (pref?.pairs.flatMap { pair in [pair.chosen, pair.rejected] } ?? [])
        if let largest = sequences.lazy.compactMap({ example in example.ids.max() }).max(), Int(largest) >= vocab {
            throw CLIError("a record tokenizes to id \(largest), outside the model's vocab_size \(vocab): the tokenizer "
                + "does not belong to this model")
        }
    }
}

/// What `xright eval` prints; `--json` writes it as one object (docs/EVAL.md, "JSON output").
struct EvalReport: Encodable {
    struct Model: Encodable { let path: String; let kind: String; let loaded: String }
    struct SFT: Encodable {
        let file: String; let split: String; let examples: Int; let scoredTokens: Int; let loss: Double; let perplexity: Double
    }
    struct Preference: Encodable {
        let file: String; let split: String; let pairs: Int; let beta: Double; let lossKind: String; let reference: String
        let loss: Double; let accuracy: Double; let margin: Double; let chosenReward: Double; let rejectedReward: Double
    }
    struct MultipleChoice: Encodable {
        let file: String; let shots: Int; let shotsFrom: String?; let questions: Int
        let acc: Double; let accStderr: Double; let accNorm: Double; let accNormStderr: Double
    }

    var model: Model
    var sft: SFT?
    var preference: Preference?
    var mc: MultipleChoice?
    var seconds = 0.0

    var text: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        var lines = ["model: \(model.path) (\(model.kind): \(model.loaded))"]
        if let s = sft {
            lines.append("sft   \(s.file), \(s.split): \(s.examples) examples, \(s.scoredTokens) scored tokens: "
                + "loss \(f(s.loss)), perplexity \(String(format: "%.3f", s.perplexity))")
        }
        if let p = preference {
            lines.append("dpo   \(p.file), \(p.split): \(p.pairs) pairs, β \(p.beta), reference \(p.reference): "
                + "loss \(f(p.loss)), accuracy \(f(p.accuracy)), margin \(f(p.margin)) "
                + "(chosen \(f(p.chosenReward)), rejected \(f(p.rejectedReward)))")
        }
        if let m = mc {
            lines.append("mc    \(m.file), \(m.questions) questions, \(m.shots)-shot: acc \(f(m.acc)) ± \(f(m.accStderr)), "
                + "acc_norm \(f(m.accNorm)) ± \(f(m.accNormStderr))")
        }
        lines.append(String(format: "(%.1f s)", seconds))
        return lines.joined(separator: "\n")
    }
}
