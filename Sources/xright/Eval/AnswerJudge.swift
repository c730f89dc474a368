import Data
import Engine
import Foundation
import GGUF
import JSON
import Text
import Training

/// What picks the better of two answers in `compare-answers`: a reward model's scalar score, or a DPO-trained
/// model's implicit reward β·(log π(y|x) − log π_ref(y|x)) (docs/EVAL.md, "Judges"). Answers arrive as text and
/// are tokenized by the judge: ids = tok(format(prompt)) ++ tok(answer) ++ [eos].
struct AnswerJudge {
    enum Kind {
        case rewardModel(RewardModel)
        case implicitReward(ImplicitReward)
    }

    let kind: Kind
    let tokenizer: any Tokenizer
    let format: PromptFormat
    let description: String

    var kindName: String {
        switch kind {
        case .rewardModel: return "reward_model"
        case .implicitReward: return "dpo_implicit_reward"
        }
    }

    /// A directory whose config.json names a `…ForSequenceClassification` architecture is a reward model;
    /// anything else `ModelOrRun` loads is a DPO judge, whose reference is `--judge-ref` or, for a run, its base.
    static func load(_ path: String, reference: String?, template: String?, beta: Double?) throws -> AnswerJudge {
        if isRewardModelDirectory(URL(fileURLWithPath: path)) {
            if let reference {
                throw CLIError("--judge-ref \(reference): JUDGE \(path) is a reward model (a score head); --judge-ref is "
                    + "only for a DPO judge")
            }
            let directory = URL(fileURLWithPath: path)
            let model = try RewardModel.load(directory)
            let tokenizer = try ModelOrRun.tokenizer(besideModel: directory, model.model, option: "--judge", path: path)
            guard tokenizer.vocabularySize <= model.model.config.vocabSize else {
                throw CLIError("--judge \(path): its tokenizer has \(tokenizer.vocabularySize) ids, more than the model's vocab_size "
                    + "\(model.model.config.vocabSize)")
            }
            let format = try PromptFormatChoice.resolve(template: template, model: directory.path)
            return AnswerJudge(kind: .rewardModel(model), tokenizer: tokenizer, format: format,
                               description: "reward model \(path)")
        }
        let judge = try ModelOrRun.load(path, option: "--judge")
        let ref: any CausalLanguageModel
        let refName: String
        if let reference {
            let r = try ModelOrRun.load(reference, option: "--judge-ref")
            try ModelOrRun.requireSameTokenizer(judge.tokenizer, "--judge \(path)", r.tokenizer, "--judge-ref \(reference)")
            guard r.model.config.vocabSize == judge.model.config.vocabSize else {
                throw CLIError("--judge-ref \(reference): vocab_size \(r.model.config.vocabSize) differs from the judge's "
                    + "\(judge.model.config.vocabSize)")
            }
            ref = r.model
            refName = reference
        } else if let base = try judge.runReference() {
            ref = base
            refName = "its run's base model"
        } else {
            throw CLIError("--judge \(path) is a language model, judged by its DPO implicit reward against a reference: "
                + "give --judge-ref REF (or a run directory as JUDGE, whose base model is the reference)")
        }
        let b = beta ?? judge.run?.options.preference.beta ?? 0.1
        let format = try judge.promptFormat(template: template)
        return AnswerJudge(kind: .implicitReward(ImplicitReward(policy: judge.model, reference: ref, beta: b)),
                           tokenizer: judge.tokenizer, format: format,
                           description: "DPO implicit reward of \(path) (β \(b)) against \(refName)")
    }

    static func isRewardModelDirectory(_ url: URL) -> Bool {
        let config = url.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: config.path),
              let object = (try? JSONValue.parse([UInt8](data)))?.objectValue,
              let architectures = object["architectures"]?.arrayValue else { return false }
        return architectures.contains { $0.stringValue?.hasSuffix("ForSequenceClassification") == true }
    }

    /// The judge's token sequence for one answer.
    func sequence(prompt: String, answer: String) throws -> TokenizedExample {
        // As training tokenizes a reply: the prompt in the format, the answer and its end (eos or end-of-turn).
        try ExampleTokenizer(tokenizer: tokenizer, format: format)
            .tokenize(SFTExample(prompt: prompt, response: answer, source: RecordLocation(file: "answers", line: 0, recordIndex: 0)))
    }

    /// One score per (prompt, answer).
    func scores(_ items: [(prompt: String, answer: String)]) throws -> [Double] {
        let sequences = try items.map { try sequence(prompt: $0.prompt, answer: $0.answer) }
        let model: any CausalLanguageModel
        switch kind {
        case .rewardModel(let m): model = m.model
        case .implicitReward(let r): model = r.policy
        }
        for (i, s) in sequences.enumerated() {
            guard s.ids.count <= model.config.maxPositions else {
                throw CLIError("the judge's input for prompt \(i / 2 + 1) is \(s.ids.count) tokens, more than its "
                    + "\(model.config.maxPositions) positions; lower --max-new-tokens or shorten the prompt")
            }
            if let bad = s.ids.first(where: { Int($0) >= model.config.vocabSize }) {
                throw CLIError("the judge's tokenizer produced id \(bad), outside its model's vocab_size \(model.config.vocabSize)")
            }
        }
        switch kind {
        case .rewardModel(let m): return try m.scores(sequences.map { $0.ids.map(Int.init) })
        case .implicitReward(let r): return r.rewards(sequences)
        }
    }
}
